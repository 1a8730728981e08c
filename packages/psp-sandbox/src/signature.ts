import { createHmac, timingSafeEqual } from "node:crypto";
import { PspError } from "@settlekit/core";

/** The header carrying the sandbox's webhook signature (HTTP header names are case-insensitive). */
export const SANDBOX_SIGNATURE_HEADER = "Settlekit-Sandbox-Signature";

const encoder = new TextEncoder();

function bodyBytes(rawBody: string | Uint8Array): Uint8Array {
  return typeof rawBody === "string" ? encoder.encode(rawBody) : rawBody;
}

function hmacHex(secret: string, timestamp: number, rawBody: string | Uint8Array): string {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(bodyBytes(rawBody)).digest("hex");
}

/**
 * The value of the `Settlekit-Sandbox-Signature` header for `rawBody` (Stripe's scheme):
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<rawBody>")>`. Use it to forge valid
 * webhooks in tests, or to check a receiver's verification.
 *
 * @param timestamp - Unix seconds (an integer), the signing time the receiver checks its tolerance against.
 */
export function signSandboxWebhook(secret: string, rawBody: string | Uint8Array, timestamp: number): string {
  if (!Number.isSafeInteger(timestamp)) throw new TypeError("timestamp must be integer Unix seconds");
  return `t=${timestamp},v1=${hmacHex(secret, timestamp, rawBody)}`;
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
  if (header === undefined || header.trim() === "")
    throw invalid(`Missing ${SANDBOX_SIGNATURE_HEADER} header.`);
  let timestamp: number | undefined;
  const candidates: Buffer[] = [];
  for (const part of header.split(",")) {
    const [key, value, ...rest] = part.trim().split("=");
    if (value === undefined || rest.length > 0) throw invalid("Malformed signature header.");
    if (key === "t" && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === "v1" && /^[0-9a-f]{64}$/.test(value)) candidates.push(Buffer.from(value, "hex"));
  }
  if (timestamp === undefined || candidates.length === 0) {
    throw invalid("Malformed signature header: needs t=<seconds> and v1=<hex digest>.");
  }
  const age = Math.floor(now.getTime() / 1000) - timestamp;
  if (Math.abs(age) > toleranceSeconds) {
    throw invalid(`Signature timestamp is ${age} s from now, outside the ${toleranceSeconds} s tolerance.`);
  }
  const expected = Buffer.from(hmacHex(secret, timestamp, rawBody), "hex");
  if (!candidates.some((candidate) => timingSafeEqual(candidate, expected))) {
    throw invalid("Webhook signature does not match the body.");
  }
}
