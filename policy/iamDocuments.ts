/**
 * IAM and resource policy documents attached by a resource, and the wildcards in them that reach data. Pure
 * functions of a resource's type and properties.
 */

/**
 * AWS services whose resources hold this system's data (mail, addresses, users, backups, keys, secrets). A wildcard
 * action or resource in these services' namespaces could read, change or delete it.
 */
export const DATA_SERVICES = ["dynamodb", "elasticfilesystem", "s3", "backup", "backup-storage", "secretsmanager", "kms", "ssm", "cognito-idp"] as const;

/** Resource types and the property (or properties) holding a policy document. */
const POLICY_PROPERTIES: Record<string, (props: Record<string, any>) => unknown[]> = {
    "aws:iam/policy:Policy": (p) => [p.policy],
    "aws:iam/rolePolicy:RolePolicy": (p) => [p.policy],
    "aws:iam/userPolicy:UserPolicy": (p) => [p.policy],
    "aws:iam/groupPolicy:GroupPolicy": (p) => [p.policy],
    "aws:iam/role:Role": (p) => (Array.isArray(p.inlinePolicies) ? p.inlinePolicies.map((inline: { policy?: unknown }) => inline?.policy) : []),
    "aws:efs/fileSystemPolicy:FileSystemPolicy": (p) => [p.policy],
    "aws:s3/bucketPolicy:BucketPolicy": (p) => [p.policy],
    "aws:dynamodb/resourcePolicy:ResourcePolicy": (p) => [p.policy],
    "aws:secretsmanager/secretPolicy:SecretPolicy": (p) => [p.policy],
    "aws:backup/vaultPolicy:VaultPolicy": (p) => [p.policy],
    "aws:kms/key:Key": (p) => [p.policy],
};

export const POLICY_DOCUMENT_TYPES = Object.keys(POLICY_PROPERTIES);

interface Statement {
    Sid?: string;
    Effect?: string;
    Action?: string | string[];
    NotAction?: string | string[];
    Resource?: string | string[];
    NotResource?: string | string[];
}

/** Parsed policy documents of a resource; a document that is not JSON is reported as a problem, not skipped. */
export function policyDocumentsOf(type: string, props: Record<string, any>): { documents: { Statement?: Statement | Statement[] }[]; unreadable: string[] } {
    const documents: { Statement?: Statement | Statement[] }[] = [];
    const unreadable: string[] = [];
    for (const raw of POLICY_PROPERTIES[type]?.(props) ?? []) {
        if (raw === undefined || raw === null || raw === "") continue;
        if (typeof raw === "object") {
            documents.push(raw as { Statement?: Statement | Statement[] });
            continue;
        }
        // The offline plan shows values no mock can compute as "[unknown]"; a real preview skips them itself.
        if (raw === "[unknown]") continue;
        try {
            documents.push(JSON.parse(String(raw)));
        } catch {
            unreadable.push(String(raw).slice(0, 60));
        }
    }
    return { documents, unreadable };
}

const asList = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

function serviceOfAction(action: string): string {
    return action.includes(":") ? action.split(":")[0].toLowerCase() : "*";
}

/** The service of an ARN (`arn:aws:dynamodb:...` → dynamodb), or undefined for anything else. */
function serviceOfArn(resource: string): string | undefined {
    const parts = resource.split(":");
    return parts[0] === "arn" && parts.length >= 6 ? parts[2].toLowerCase() : undefined;
}

const isData = (service: string) => (DATA_SERVICES as readonly string[]).includes(service);
const hasWildcard = (text: string) => /[*?]/.test(text);

/**
 * Problems with the Allow statements of one document: NotAction/NotResource (which grant everything else), a
 * wildcard action that reaches a data service (`*`, `dynamodb:*`, `s3:Get*`), and a wildcard resource for data
 * actions (`*`, `arn:aws:dynamodb:...:table/*`). Deny statements may use wildcards: they only take away.
 */
export function wildcardProblems(document: { Statement?: Statement | Statement[] }): string[] {
    const problems: string[] = [];
    const statements = Array.isArray(document.Statement) ? document.Statement : document.Statement ? [document.Statement] : [];
    statements.forEach((statement, index) => {
        if (statement.Effect !== "Allow") return;
        const label = statement.Sid ? `statement ${statement.Sid}` : `statement ${index + 1}`;
        if (statement.NotAction !== undefined) problems.push(`${label} uses NotAction, which allows every other action, data included`);
        if (statement.NotResource !== undefined) problems.push(`${label} uses NotResource, which allows every other resource, data included`);
        const actions = asList(statement.Action);
        const wildActions = actions.filter((a) => a === "*" || (hasWildcard(a) && (serviceOfAction(a) === "*" || isData(serviceOfAction(a)))));
        if (wildActions.length > 0) problems.push(`${label} allows wildcard actions on data: ${wildActions.join(", ")}`);
        const touchesData = actions.some((a) => a === "*" || isData(serviceOfAction(a)));
        if (!touchesData) return;
        const wildResources = asList(statement.Resource).filter((r) => {
            if (r === "*") return true;
            const service = serviceOfArn(r);
            return service !== undefined && isData(service) && hasWildcard(r.split(":").slice(5).join(":"));
        });
        if (wildResources.length > 0) problems.push(`${label} allows data actions (${actions.filter((a) => a === "*" || isData(serviceOfAction(a))).join(", ")}) on wildcard resources: ${wildResources.join(", ")}`);
    });
    return problems;
}
