/**
 * The HTTP API's routes: the single list that the AddressApi component deploys (one Lambda function and one
 * least-privilege role per route), that the Lambda glue dispatches on, and that the tests walk for the
 * authorization matrix. Data only: no AWS SDK imports, so the Pulumi program can load it cheaply.
 */

/** What a route's function may do; the AddressApi component turns each into an IAM statement on named ARNs. */
export type Permission =
    | "table:GetItem"
    | "table:PutItem"
    | "table:UpdateItem"
    | "table:DeleteItem"
    | "table:Scan"
    | "byUserIndex:Query"
    | "bySubdomainIndex:Query"
    | "dns:ChangeRecords"
    | "users:List"
    | "users:Approve"
    | "users:Disable";

export type OperationName =
    | "createAddress"
    | "listAddresses"
    | "suspendAddress"
    | "reinstateAddress"
    | "revokeAddress"
    | "adminListAddresses"
    | "adminListUsers"
    | "adminApproveUser"
    | "adminDisableUser";

export interface RouteSpec {
    /** API Gateway route key. */
    routeKey: string;
    method: "GET" | "POST" | "DELETE";
    /** Path with `{param}` placeholders, as API Gateway writes it. */
    path: string;
    /** The operation, and the file `api/handlers/<operation>.ts` that is the function's entry point. */
    operation: OperationName;
    /** Only members of the `admin` group may call it. */
    adminOnly: boolean;
    permissions: readonly Permission[];
}

/** The Cognito group whose members are administrators. */
export const ADMIN_GROUP = "admin";

// Every function that changes an address reconciles the subdomain's DNS afterwards: it reads the subdomain's
// other addresses (index query, then consistent reads) and changes Route 53; on failure it undoes its own write.
const reconcile: Permission[] = ["table:GetItem", "bySubdomainIndex:Query", "dns:ChangeRecords"];

export const ROUTES: readonly RouteSpec[] = [
    { routeKey: "POST /addresses", method: "POST", path: "/addresses", operation: "createAddress", adminOnly: false, permissions: ["table:PutItem", "table:DeleteItem", ...reconcile] },
    { routeKey: "GET /addresses", method: "GET", path: "/addresses", operation: "listAddresses", adminOnly: false, permissions: ["byUserIndex:Query"] },
    { routeKey: "POST /addresses/{address}/suspend", method: "POST", path: "/addresses/{address}/suspend", operation: "suspendAddress", adminOnly: false, permissions: ["table:UpdateItem", ...reconcile] },
    { routeKey: "POST /addresses/{address}/reinstate", method: "POST", path: "/addresses/{address}/reinstate", operation: "reinstateAddress", adminOnly: false, permissions: ["table:UpdateItem", ...reconcile] },
    { routeKey: "DELETE /addresses/{address}", method: "DELETE", path: "/addresses/{address}", operation: "revokeAddress", adminOnly: false, permissions: ["table:DeleteItem", "table:PutItem", ...reconcile] },
    { routeKey: "GET /admin/addresses", method: "GET", path: "/admin/addresses", operation: "adminListAddresses", adminOnly: true, permissions: ["table:Scan"] },
    { routeKey: "GET /admin/users", method: "GET", path: "/admin/users", operation: "adminListUsers", adminOnly: true, permissions: ["users:List"] },
    { routeKey: "POST /admin/users/{username}/approve", method: "POST", path: "/admin/users/{username}/approve", operation: "adminApproveUser", adminOnly: true, permissions: ["users:Approve"] },
    { routeKey: "POST /admin/users/{username}/disable", method: "POST", path: "/admin/users/{username}/disable", operation: "adminDisableUser", adminOnly: true, permissions: ["users:Disable"] },
];

export function routeFor(operation: OperationName): RouteSpec {
    const route = ROUTES.find((r) => r.operation === operation);
    if (!route) throw new Error(`no route for operation ${operation}`);
    return route;
}
