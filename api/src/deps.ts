/** The clients and settings an operation works with; built from the environment in Lambda, injected in tests. */
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { Route53Client } from "@aws-sdk/client-route-53";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type ApiSettings, settingsFromEnvironment } from "./settings";

export interface ApiDeps {
    settings: ApiSettings;
    dynamo: DynamoDBDocumentClient;
    route53: Route53Client;
    cognito: CognitoIdentityProviderClient;
    /** The clock, so tests can pin createdAt. */
    now: () => Date;
}

export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
    return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

let fromEnvironment: ApiDeps | undefined;

/** One set of clients per Lambda container, created on first use (not at import, so tests can import freely). */
export function depsFromEnvironment(): ApiDeps {
    // Route 53 is a global service whose API lives in us-east-1, whatever region the function runs in.
    fromEnvironment ??= {
        settings: settingsFromEnvironment(),
        dynamo: documentClient(new DynamoDBClient({})),
        route53: new Route53Client({ region: "us-east-1" }),
        cognito: new CognitoIdentityProviderClient({}),
        now: () => new Date(),
    };
    return fromEnvironment;
}
