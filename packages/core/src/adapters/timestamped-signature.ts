import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The timestamped HMAC scheme of settlekit's own signed requests (the sandbox's webhooks and the
 * alert webhooks; Stripe's scheme): `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 */
const hmacHex = (secret: string, timestamp: number, body: string | Uint8Array): string =>
  createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");

/** The signature header's value for `body` signed at `timestamp` (integer Unix seconds). */
export function signTimestamped(secret: string, body: string | Uint8Array, timestamp: number): string {
  if (!Number.isSafeInteger(timestamp)) throw new TypeError("timestamp must be integer Unix seconds");
  return `t=${timestamp},v1=${hmacHex(secret, timestamp, body)}`;
}

export interface TimestampedSignatureCheck {
  readonly secret: string;
  /** The body exactly as received. */
  readonly body: string | Uint8Array;
  /** The header's value (undefined when absent). */
  readonly header: string | undefined;
  /** The header's name, for the message when it is missing. */
  readonly headerName: string;
  readonly now: Date;
  /** Largest accepted age of the signature either way, seconds: older is a replay. */
  readonly toleranceSeconds: number;
  /** What "does not match" says (e.g. "Webhook signature does not match the body."). */
  readonly mismatch: string;
}

/**
 * Checks a timestamped signature: several `v1` entries may be present (secret rotation), one match
 * is enough; comparison is constant-time over equal-length digests. Throws `fail(message)` when
 * the header is missing or malformed, `t` is outside the tolerance, or no `v1` matches.
 */
export function checkTimestamped(check: TimestampedSignatureCheck, fail: (message: string) => Error): void {
  const { header } = check;
  if (header === undefined || header.trim() === "") throw fail(`Missing ${check.headerName} header.`);
  let timestamp: number | undefined;
  const candidates: Buffer[] = [];
  for (const part of header.split(",")) {
    const [key, value, ...rest] = part.trim().split("=");
    if (value === undefined || rest.length > 0) throw fail("Malformed signature header.");
    if (key === "t" && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === "v1" && /^[0-9a-f]{64}$/.test(value)) candidates.push(Buffer.from(value, "hex"));
  }
  if (timestamp === undefined || candidates.length === 0) {
    throw fail("Malformed signature header: needs t=<seconds> and v1=<hex digest>.");
  }
  const age = Math.floor(check.now.getTime() / 1000) - timestamp;
  if (Math.abs(age) > check.toleranceSeconds) {
    throw fail(
      `Signature timestamp is ${age} s from now, outside the ${check.toleranceSeconds} s tolerance.`,
    );
  }
  const expected = Buffer.from(hmacHex(check.secret, timestamp, check.body), "hex");
  if (!candidates.some((candidate) => timingSafeEqual(candidate, expected))) throw fail(check.mismatch);
}
