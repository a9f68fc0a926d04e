/**
 * The one program of the mail images (bundled by esbuild into /opt/cabal/cabal-mail.js):
 *
 *   cabal-mail render <tier> <template dir> <config dir>   render the tier's config from the environment
 *   cabal-mail resolver <tier> [--port N] [--milter-port N]  run the resolver on 127.0.0.1:10030 (and, on
 *                                                           smtp-out, the milter on 10031) until SIGTERM; the
 *                                                           port options exist for tests on shared loopback
 *
 * Both read only the variables of lib/mailTiers.ts's MAIL_ENV (plus the AWS SDK's own: region, credentials
 * from the task role).
 */
import { MAIL_PORTS, MAIL_TIER_NAMES, MailTierName } from "../../lib/mailTiers";
import { MILTER_PORT, MailConfigError, contractFromEnv, renderTier, templateVariables } from "./render";
import { startResolver } from "./resolver";

function usage(message: string): never {
    process.stderr.write(`${message}\nusage: cabal-mail render <${MAIL_TIER_NAMES.join("|")}> <template dir> <config dir>\n       cabal-mail resolver <${MAIL_TIER_NAMES.join("|")}> [--port N] [--milter-port N]\n`);
    process.exit(2);
}

async function main(argv: string[]): Promise<void> {
    const [command, tierArg, ...rest] = argv;
    if (!MAIL_TIER_NAMES.includes(tierArg as MailTierName)) usage(`unknown tier ${JSON.stringify(tierArg)}`);
    const tier = tierArg as MailTierName;
    const contract = contractFromEnv(tier, process.env);
    if (command === "render") {
        const [templateDir, configDir] = rest;
        if (!templateDir || !configDir) usage("render needs a template directory and a config directory");
        const written = renderTier(tier, contract, templateVariables(tier, contract), configDir, templateDir);
        process.stdout.write(`rendered ${written.join(" ")}\n`);
        return;
    }
    if (command === "resolver") {
        const portOption = (name: string, fallback: number) => {
            const i = rest.indexOf(name);
            if (i < 0) return fallback;
            const value = Number(rest[i + 1]);
            if (!Number.isInteger(value) || value < 1 || value > 65535) usage(`${name} needs a port number, got ${JSON.stringify(rest[i + 1])}`);
            return value;
        };
        const resolver = await startResolver({
            port: portOption("--port", MAIL_PORTS.resolver),
            directory: { tableName: contract.addressTable, mailDomains: contract.mailDomains, region: contract.region },
            cognito: tier === "imap" ? { clientId: contract.userPoolClientId!, userPoolId: contract.userPoolId, region: contract.region } : undefined,
            milter: tier === "smtp-out" ? { port: portOption("--milter-port", MILTER_PORT), privateKeyPem: contract.dkimPrivateKey! } : undefined,
        });
        process.stderr.write(`resolver (${tier}) listening on 127.0.0.1:${resolver.port}${resolver.milterPort ? `, milter on ${resolver.milterPort}` : ""}\n`);
        const stop = () => void resolver.stop().then(() => process.exit(0));
        process.on("SIGTERM", stop);
        process.on("SIGINT", stop);
        return;
    }
    usage(`unknown command ${JSON.stringify(command)}`);
}

main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(err instanceof MailConfigError ? `${err.message}\n` : `${(err as Error).stack ?? err}\n`);
    process.exit(1);
});
