/**
 * Admin operations on the user pool. New users sign up and stay UNCONFIRMED (they cannot sign in) until an
 * admin approves them with AdminConfirmSignUp; disabling uses AdminDisableUser and signs the user out
 * everywhere, so their refresh tokens stop working (access tokens expire on their own, see api/README.md).
 */
import {
    AdminConfirmSignUpCommand,
    AdminDisableUserCommand,
    AdminEnableUserCommand,
    AdminGetUserCommand,
    AdminUserGlobalSignOutCommand,
    ListUsersCommand,
    ListUsersInGroupCommand,
    type AttributeType,
} from "@aws-sdk/client-cognito-identity-provider";
import type { ApiDeps } from "./deps";
import { awsErrorName, badRequest, notFound } from "./errors";
import type { ApiRequest, ApiResult } from "./request";
import { ADMIN_GROUP } from "./routes";

import { USERNAME_RE, USERNAME_RULE } from "./usernames";

export interface UserSummary {
    username: string;
    email?: string;
    /** Cognito's status: UNCONFIRMED means waiting for approval. */
    status?: string;
    enabled: boolean;
    admin: boolean;
    createdAt?: string;
}

function pathUsername(request: ApiRequest): string {
    const username = (request.pathParameters.username ?? "").toLowerCase();
    if (!USERNAME_RE.test(username)) throw badRequest(`"${username.slice(0, 80)}" is not a valid user name: ${USERNAME_RULE}`);
    return username;
}

const email = (attributes: AttributeType[] | undefined) => attributes?.find((a) => a.Name === "email")?.Value;

async function adminNames(deps: ApiDeps): Promise<Set<string>> {
    const names = new Set<string>();
    let token: string | undefined;
    do {
        const page = await deps.cognito.send(new ListUsersInGroupCommand({ UserPoolId: deps.settings.userPoolId, GroupName: ADMIN_GROUP, NextToken: token }));
        for (const user of page.Users ?? []) if (user.Username) names.add(user.Username);
        token = page.NextToken;
    } while (token);
    return names;
}

export async function adminListUsers(deps: ApiDeps, _request: ApiRequest): Promise<ApiResult> {
    const admins = await adminNames(deps);
    const users: UserSummary[] = [];
    let token: string | undefined;
    do {
        const page = await deps.cognito.send(new ListUsersCommand({ UserPoolId: deps.settings.userPoolId, PaginationToken: token }));
        for (const user of page.Users ?? []) {
            users.push({
                username: user.Username ?? "",
                email: email(user.Attributes),
                status: user.UserStatus,
                enabled: user.Enabled ?? true,
                admin: admins.has(user.Username ?? ""),
                createdAt: user.UserCreateDate ? new Date(user.UserCreateDate).toISOString() : undefined,
            });
        }
        token = page.PaginationToken;
    } while (token);
    users.sort((a, b) => a.username.localeCompare(b.username));
    return { statusCode: 200, body: { users } };
}

async function getUser(deps: ApiDeps, username: string) {
    try {
        return await deps.cognito.send(new AdminGetUserCommand({ UserPoolId: deps.settings.userPoolId, Username: username }));
    } catch (error) {
        if (awsErrorName(error) === "UserNotFoundException") throw notFound(`No user ${username} in the user pool. List users with GET /admin/users.`);
        throw error;
    }
}

export async function adminApproveUser(deps: ApiDeps, request: ApiRequest): Promise<ApiResult> {
    const username = pathUsername(request);
    const user = await getUser(deps, username);
    const UserPoolId = deps.settings.userPoolId;
    if (user.UserStatus === "UNCONFIRMED") await deps.cognito.send(new AdminConfirmSignUpCommand({ UserPoolId, Username: username }));
    if (user.Enabled === false) await deps.cognito.send(new AdminEnableUserCommand({ UserPoolId, Username: username }));
    return { statusCode: 200, body: { user: { username, approved: true, enabled: true } } };
}

export async function adminDisableUser(deps: ApiDeps, request: ApiRequest): Promise<ApiResult> {
    const username = pathUsername(request);
    if (username === request.caller.user) throw badRequest("You cannot disable yourself; ask another admin.");
    await getUser(deps, username);
    const UserPoolId = deps.settings.userPoolId;
    await deps.cognito.send(new AdminDisableUserCommand({ UserPoolId, Username: username }));
    try {
        await deps.cognito.send(new AdminUserGlobalSignOutCommand({ UserPoolId, Username: username }));
    } catch (error) {
        // The user is disabled either way (Cognito refuses their sign-in and refresh); the sign-out is a second lock.
        // cognito-local (the test stand-in) lacks this call and answers "Unsupported"; real Cognito supports it.
        if (!/Unsupported/.test(awsErrorName(error) ?? "")) throw error;
    }
    return { statusCode: 200, body: { user: { username, enabled: false } } };
}
