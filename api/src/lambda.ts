/**
 * The glue between API Gateway (HTTP API, payload format 2.0, JWT authorizer) and the operations: who the
 * caller is (from the claims the authorizer verified), the admin check, body parsing, and JSON errors.
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { adminListAddresses, createAddress, listAddresses, reinstateAddress, revokeAddress, suspendAddress } from "./addresses";
import { type ApiDeps, depsFromEnvironment } from "./deps";
import { ApiError, awsErrorName, badRequest, errorMessage, forbidden } from "./errors";
import type { ApiRequest, ApiResult, Caller } from "./request";
import { ADMIN_GROUP, type OperationName, routeFor } from "./routes";
import { adminApproveUser, adminDisableUser, adminListUsers } from "./users";

export type Operation = (deps: ApiDeps, request: ApiRequest) => Promise<ApiResult>;

export const OPERATIONS: Record<OperationName, Operation> = {
    createAddress,
    listAddresses,
    suspendAddress,
    reinstateAddress,
    revokeAddress,
    adminListAddresses,
    adminListUsers,
    adminApproveUser,
    adminDisableUser,
};

const MAX_BODY_BYTES = 10_000;

/**
 * API Gateway flattens array claims to a string (`"[admin users]"`); a verifier used directly gives an array.
 */
export function groupsFromClaim(claim: unknown): string[] {
    if (Array.isArray(claim)) return claim.map(String);
    if (typeof claim !== "string") return [];
    return claim.replace(/^\[|\]$/g, "").split(/[\s,]+/).filter(Boolean);
}

/** The caller from verified access-token claims; the authorizer has already checked signature, issuer, audience and expiry. */
export function callerFromClaims(claims: Record<string, unknown> | undefined): Caller {
    if (!claims) throw new ApiError(401, "No verified token reached the function: the route must use the JWT authorizer.");
    if (claims.token_use !== "access") throw new ApiError(401, "Send the access token (not the ID token) as the bearer token: Authorization: Bearer <access token>.");
    const user = claims.username;
    if (typeof user !== "string" || user.length === 0) throw new ApiError(401, "The access token has no username claim.");
    return { user, isAdmin: groupsFromClaim(claims["cognito:groups"]).includes(ADMIN_GROUP) };
}

function parseBody(event: APIGatewayProxyEventV2WithJWTAuthorizer): unknown {
    if (event.body === undefined || event.body === null || event.body === "") return undefined;
    const text = event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
    if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new ApiError(413, `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
    try {
        return JSON.parse(text);
    } catch (error) {
        throw badRequest(`The request body is not valid JSON: ${errorMessage(error)}`);
    }
}

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
    return { statusCode, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

/** Maps failures to JSON errors: ours keep their status; AWS failures become 502/503 without internals. */
export function errorResponse(error: unknown, requestId: string): APIGatewayProxyStructuredResultV2 {
    if (error instanceof ApiError) return json(error.statusCode, { error: error.message });
    const name = awsErrorName(error) ?? "Error";
    console.error(JSON.stringify({ requestId, name, message: errorMessage(error) }));
    if (/Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded|PriorRequestNotComplete|TooManyRequests/.test(name)) {
        return json(503, { error: `The service is busy (${name}); retry in a few seconds. Request id ${requestId}.` });
    }
    return json(500, { error: `Internal error (${name}); nothing was changed unless the response said so. Request id ${requestId}.` });
}

/** A Lambda handler for one operation; `deps` defaults to clients built from the function's environment. */
export function lambdaHandler(operation: OperationName, deps: () => ApiDeps = depsFromEnvironment) {
    const route = routeFor(operation);
    const run = OPERATIONS[operation];
    return async (event: APIGatewayProxyEventV2WithJWTAuthorizer): Promise<APIGatewayProxyStructuredResultV2> => {
        const requestId = event.requestContext?.requestId ?? "unknown";
        try {
            const caller = callerFromClaims(event.requestContext?.authorizer?.jwt?.claims);
            if (route.adminOnly && !caller.isAdmin) throw forbidden(`${route.routeKey} is for administrators: members of the "${ADMIN_GROUP}" group.`);
            const request: ApiRequest = {
                caller,
                pathParameters: event.pathParameters ?? {},
                query: event.queryStringParameters ?? {},
                body: parseBody(event),
            };
            const result = await run(deps(), request);
            return json(result.statusCode, result.body);
        } catch (error) {
            return errorResponse(error, requestId);
        }
    };
}
