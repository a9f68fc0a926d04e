/**
 * Cognito pre-sign-up trigger. Self sign-up is open, but:
 * - when the operator set an invitation code, a sign-up must carry it (as client metadata or validation
 *   data `invitationCode`); the function holds only its SHA-256, never the code;
 * - the user name must fit a mailbox name (see USERNAME_RE);
 * - the user is never auto-confirmed: they stay UNCONFIRMED, unable to sign in, until an admin approves them.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { PreSignUpTriggerEvent } from "aws-lambda";
import { USERNAME_RE, USERNAME_RULE } from "../src/usernames";

export const INVITATION_CODE_SHA256_ENV = "INVITATION_CODE_SHA256";

export function sha256Hex(text: string): string {
    return createHash("sha256").update(text, "utf8").digest("hex");
}

export function checkSignUp(event: PreSignUpTriggerEvent, expectedSha256: string | undefined): PreSignUpTriggerEvent {
    if (!USERNAME_RE.test(event.userName)) {
        throw new Error(`The user name "${event.userName.slice(0, 80)}" is not allowed: use ${USERNAME_RULE}.`);
    }
    if (expectedSha256) {
        const code = event.request.clientMetadata?.invitationCode ?? event.request.validationData?.invitationCode;
        if (!code) throw new Error("This user pool needs an invitation code to sign up: ask the operator for one.");
        const given = Buffer.from(sha256Hex(code), "hex");
        const expected = Buffer.from(expectedSha256, "hex");
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new Error("The invitation code is not valid.");
    }
    event.response.autoConfirmUser = false;
    event.response.autoVerifyEmail = false;
    event.response.autoVerifyPhone = false;
    return event;
}

export const handler = async (event: PreSignUpTriggerEvent): Promise<PreSignUpTriggerEvent> =>
    checkSignUp(event, process.env[INVITATION_CODE_SHA256_ENV] || undefined);
