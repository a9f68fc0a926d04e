/**
 * A local stand-in for the deployed HTTP API: it does what API Gateway's JWT authorizer does (bearer token →
 * verified with aws-jwt-verify → claims, arrays flattened as API Gateway flattens them), matches the routes
 * of api/src/routes.ts, and invokes the same Lambda glue (`lambdaHandler`) with a payload-2.0 event.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from "aws-lambda";
import { JwtRsaVerifier } from "aws-jwt-verify";
import type { ApiDeps } from "../../../api/src/deps";
import { lambdaHandler } from "../../../api/src/lambda";
import { ROUTES } from "../../../api/src/routes";
import { freePort } from "./ports";

export interface TokenVerifier {
    verify(token: string): Promise<Record<string, unknown>>;
}

/** Verifies like the deployed authorizer: issuer, signature, expiry, and `aud` or `client_id` equal to the app client. */
export function jwtVerifier(issuer: string, clientId: string, jwks: { keys: Record<string, unknown>[] }): TokenVerifier {
    const verifier = JwtRsaVerifier.create({
        issuer,
        audience: null,
        customJwtCheck: ({ payload }) => {
            const audience = payload.aud ?? payload.client_id;
            const audiences = Array.isArray(audience) ? audience : [audience];
            if (!audiences.includes(clientId)) throw new Error("token was not issued to this app client");
        },
    });
    verifier.cacheJwks(jwks as never);
    return { verify: async (token) => (await verifier.verify(token)) as unknown as Record<string, unknown> };
}

/** API Gateway hands claims to the function as strings; arrays become "[a b]". */
function flattenClaims(payload: Record<string, unknown>): Record<string, string | number | boolean | string[]> {
    const claims: Record<string, string | number | boolean | string[]> = {};
    for (const [key, value] of Object.entries(payload)) {
        claims[key] = Array.isArray(value) ? `[${value.join(" ")}]` : typeof value === "object" ? JSON.stringify(value) : (value as string | number | boolean);
    }
    return claims;
}

function matchRoute(method: string, path: string) {
    const segments = path.split("/").filter(Boolean);
    for (const route of ROUTES) {
        if (route.method !== method) continue;
        const template = route.path.split("/").filter(Boolean);
        if (template.length !== segments.length) continue;
        const params: Record<string, string> = {};
        if (template.every((part, i) => (part.startsWith("{") ? ((params[part.slice(1, -1)] = segments[i]), true) : part === segments[i]))) return { route, params };
    }
    return undefined;
}

async function readBody(request: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
}

export interface LocalGateway {
    url: string;
    stop(): Promise<void>;
}

export async function startGateway(options: { deps: () => ApiDeps; verifier: TokenVerifier }): Promise<LocalGateway> {
    const handlers = new Map(ROUTES.map((route) => [route.operation, lambdaHandler(route.operation, options.deps)]));
    let requestCount = 0;
    const server: Server = createServer(async (request, response) => {
        const send = (status: number, body: string, headers: Record<string, string> = { "content-type": "application/json" }) => {
            response.writeHead(status, headers);
            response.end(body);
        };
        try {
            const url = new URL(request.url ?? "/", "http://localhost");
            const match = matchRoute(request.method ?? "GET", url.pathname);
            if (!match) return send(404, JSON.stringify({ message: "Not Found" }));
            const authorization = request.headers.authorization ?? "";
            const token = authorization.replace(/^Bearer\s+/i, "");
            let claims: Record<string, unknown>;
            try {
                if (!token) throw new Error("no token");
                claims = await options.verifier.verify(token);
            } catch {
                return send(401, JSON.stringify({ message: "Unauthorized" }), { "content-type": "application/json", "www-authenticate": 'Bearer error="invalid_token"' });
            }
            const body = await readBody(request);
            const query = Object.fromEntries(url.searchParams.entries());
            const event = {
                version: "2.0",
                routeKey: match.route.routeKey,
                rawPath: url.pathname,
                rawQueryString: url.search.slice(1),
                headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)])),
                queryStringParameters: Object.keys(query).length ? query : undefined,
                pathParameters: Object.keys(match.params).length ? match.params : undefined,
                body: body || undefined,
                isBase64Encoded: false,
                requestContext: {
                    requestId: `local-${++requestCount}`,
                    routeKey: match.route.routeKey,
                    authorizer: { jwt: { claims: flattenClaims(claims), scopes: null } },
                },
            } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
            const result = await handlers.get(match.route.operation)!(event);
            send(result.statusCode ?? 200, result.body ?? "", (result.headers as Record<string, string>) ?? {});
        } catch (error) {
            send(500, JSON.stringify({ message: `gateway failure: ${error instanceof Error ? error.message : error}` }));
        }
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
    return {
        url: `http://127.0.0.1:${port}`,
        stop: () => new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    };
}
