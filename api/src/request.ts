/** An API request after the gateway's JWT authorizer: who calls, and what they sent. */

export interface Caller {
    /** User name in the pool (the access token's `username` claim): owner of the addresses the caller creates. */
    user: string;
    /** Member of the `admin` group. */
    isAdmin: boolean;
}

export interface ApiRequest {
    caller: Caller;
    pathParameters: Record<string, string | undefined>;
    query: Record<string, string | undefined>;
    /** The parsed JSON body, or undefined when there was none. */
    body: unknown;
}

export interface ApiResult {
    statusCode: number;
    body: unknown;
}
