import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Arguments of the MailCertificate component. */
export interface MailCertificateArgs {
    /** The host names the certificate covers; the first is its subject. All must lie in the zone below. */
    hostNames: string[];
    /** The Route 53 zone the DNS validation records go into (the control domain's). */
    zoneId: pulumi.Input<string>;
}

/**
 * An ACM certificate for the mail host names, validated through DNS records in the control domain's zone. The load
 * balancer's TLS listeners (IMAP 993, submission 465) use it; ACM renews it as long as the records stay.
 */
export class MailCertificate extends pulumi.ComponentResource {
    /** The certificate's ARN, available only once ACM has issued it (the listeners wait for that). */
    public readonly certificateArn: pulumi.Output<string>;
    /** The validation records' fully qualified names. */
    public readonly validationRecordNames: pulumi.Output<string>[];

    constructor(name: string, args: MailCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cabalmail:index:MailCertificate", name, {}, opts);
        const { hostNames, zoneId } = args;
        if (hostNames.length === 0) throw new Error(`MailCertificate ${name}: hostNames is empty; pass the mail host names (mailHosts(controlDomain))`);
        if (new Set(hostNames).size !== hostNames.length) throw new Error(`MailCertificate ${name}: hostNames lists a name twice: ${JSON.stringify(hostNames)}`);

        const certificate = new aws.acm.Certificate(name, {
            domainName: hostNames[0],
            subjectAlternativeNames: hostNames.slice(1),
            validationMethod: "DNS",
            keyAlgorithm: "RSA_2048",
            tags: { Name: name },
        }, { parent: this });

        // ACM gives one validation record per name (ordered by name); their count is known before ACM answers.
        const records = hostNames.map((hostName, i) => {
            const option = certificate.domainValidationOptions.apply((options) => {
                const match = options.find((o) => o.domainName === hostName) ?? options[i];
                if (!match) throw new Error(`MailCertificate ${name}: ACM returned no validation record for ${hostName}`);
                return match;
            });
            return new aws.route53.Record(`${name}-validation-${i}`, {
                zoneId,
                name: option.resourceRecordName,
                type: option.resourceRecordType,
                records: [option.resourceRecordValue],
                ttl: 300,
                // A re-created certificate for the same names reuses the same record: take it over, don't fail.
                allowOverwrite: true,
            }, { parent: this });
        });

        const validation = new aws.acm.CertificateValidation(name, {
            certificateArn: certificate.arn,
            validationRecordFqdns: records.map((r) => r.fqdn),
        }, { parent: this });

        this.certificateArn = validation.certificateArn;
        this.validationRecordNames = records.map((r) => r.name);
        this.registerOutputs({ certificateArn: this.certificateArn });
    }
}
