/** Calls the address API with the session's access token, refreshing it once when it has expired. */
import { refreshSession, secondsLeft, SESSION_EXPIRED } from "./auth";
import { CliError, type CliConfig, clearSession, loadSession, saveSession, type Session } from "./config";

export class ApiClient {
    constructor(
        private readonly config: CliConfig,
        private readonly configDir: string,
        private readonly fetchImpl: typeof fetch = fetch,
    ) {}

    /** The signed-in session with an access token that is still valid (refreshed when needed). */
    async session(forceRefresh = false): Promise<Session> {
        const session = loadSession(this.configDir);
        if (!session) throw new CliError("You are not signed in. Sign in with: cabalmail login");
        if (!forceRefresh && secondsLeft(session.accessToken) > 30) return session;
        try {
            const refreshed = await refreshSession(this.config, session);
            saveSession(this.configDir, refreshed);
            return refreshed;
        } catch (error) {
            clearSession(this.configDir);
            throw error;
        }
    }

    async request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
        let session = await this.session();
        for (let attempt = 1; ; attempt++) {
            let response: Response;
            try {
                response = await this.fetchImpl(`${this.config.apiUrl}${path}`, {
                    method,
                    headers: { authorization: `Bearer ${session.accessToken}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
                    body: body === undefined ? undefined : JSON.stringify(body),
                });
            } catch (error) {
                throw new CliError(`Cannot reach the API at ${this.config.apiUrl}: ${error instanceof Error ? error.message : error}`);
            }
            const text = await response.text();
            let payload: any;
            try {
                payload = text ? JSON.parse(text) : {};
            } catch {
                payload = { error: text.slice(0, 300) };
            }
            if (response.ok) return payload as T;
            if (response.status === 401 && attempt === 1) {
                // Revoked or expired early (e.g. after a sign-out elsewhere): refresh once, then give up.
                session = await this.session(true);
                continue;
            }
            if (response.status === 401) {
                clearSession(this.configDir);
                throw new CliError(SESSION_EXPIRED);
            }
            const message = payload?.error ?? payload?.message ?? `HTTP ${response.status}`;
            throw new CliError(`Error (${response.status}): ${message}`);
        }
    }
}
