/** What every function needs to know about the deployment, read from its environment (set by the AddressApi component). */
export interface ApiSettings {
    /** The AddressStore table. */
    tableName: string;
    /** Apex domains on which addresses are created. */
    mailDomains: string[];
    /** The operator's domain: MX target host, SPF include and DKIM key live there. */
    controlDomain: string;
    /** Mail domain → id of its Route 53 hosted zone. */
    hostedZoneIds: Record<string, string>;
    /** The Cognito user pool, for the admin user operations. */
    userPoolId: string;
}

/** The environment variable names, shared with the AddressApi component. */
export const API_ENV = {
    tableName: "ADDRESS_TABLE",
    mailDomains: "MAIL_DOMAINS",
    controlDomain: "CONTROL_DOMAIN",
    hostedZoneIds: "HOSTED_ZONE_IDS",
    userPoolId: "USER_POOL_ID",
} as const;

export function settingsFromEnvironment(env: NodeJS.ProcessEnv = process.env): ApiSettings {
    const required = (name: string) => {
        const value = env[name];
        if (!value) throw new Error(`environment variable ${name} is not set; the AddressApi component sets it on every function`);
        return value;
    };
    const tableName = required(API_ENV.tableName);
    const mailDomains = required(API_ENV.mailDomains).split(",").map((d) => d.trim().toLowerCase()).filter(Boolean);
    const controlDomain = required(API_ENV.controlDomain).toLowerCase();
    const zonesJson = required(API_ENV.hostedZoneIds);
    let hostedZoneIds: Record<string, string>;
    try {
        hostedZoneIds = JSON.parse(zonesJson);
    } catch (error) {
        throw new Error(`environment variable ${API_ENV.hostedZoneIds} must be a JSON object of mail domain → hosted zone id: ${error instanceof Error ? error.message : error}`);
    }
    return { tableName, mailDomains, controlDomain, hostedZoneIds, userPoolId: env[API_ENV.userPoolId] ?? "" };
}
