import { checkTimestamped, PspError, signTimestamped } from "@settlekit/core";

/** The header carrying the sandbox's webhook signature (HTTP header names are case-insensitive). */
export const SANDBOX_SIGNATURE_HEADER = "Settlekit-Sandbox-Signature";

/**
 * The value of the `Settlekit-Sandbox-Signature` header for `rawBody` (Stripe's scheme):
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<rawBody>")>`. Use it to forge valid
 * webhooks in tests, or to check a receiver's verification.
 *
 * @param timestamp - Unix seconds (an integer), the signing time the receiver checks its tolerance against.
 */
export function signSandboxWebhook(secret: string, rawBody: string | Uint8Array, timestamp: number): string {
  return signTimestamped(secret, rawBody, timestamp);
}

const invalid = (message: string): PspError =>
  new PspError("WEBHOOK_SIGNATURE_INVALID", "fatal", message, { pspCode: "signature_verification_failed" });

/** Finds a header whatever its case (node lowercases names; hand-built objects may not). */
export function headerValue(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  name: string,
): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return typeof value === "string" ? value : value.join(",");
  }
  return undefined;
}

/**
 * Verifies a signature header against the raw body. Several `v1` entries may be present (secret
 * rotation); one match is enough. Comparison is constant-time over equal-length digests, so the
 * time taken says nothing about how much of a forged signature was right.
 *
 * @throws {PspError} `WEBHOOK_SIGNATURE_INVALID` (fatal) when the header is missing or malformed,
 *   no `v1` matches, or `t` is more than `toleranceSeconds` away from `now` (a replay).
 */
export function verifySandboxSignature(
  secret: string,
  rawBody: string | Uint8Array,
  header: string | undefined,
  now: Date,
  toleranceSeconds: number,
): void {
  checkTimestamped(
    {
      secret,
      body: rawBody,
      header,
      headerName: SANDBOX_SIGNATURE_HEADER,
      now,
      toleranceSeconds,
      mismatch: "Webhook signature does not match the body.",
    },
    invalid,
  );
}
