import { checkTimestamped, signTimestamped } from "../adapters/timestamped-signature.js";
import { ErrorCodes, SettlekitError } from "../errors.js";
import type { Alert } from "../ports/alerts.js";
import { alertFromJson } from "./alert-json.js";

/** The header carrying an alert webhook's signature (names are case-insensitive). */
export const ALERT_SIGNATURE_HEADER = "Settlekit-Signature";
/** The header naming the alert (stable across retries: a receiver dedupes by it). */
export const ALERT_ID_HEADER = "Settlekit-Alert-Id";

/**
 * The `Settlekit-Signature` value for a body, the scheme of settlekit's sandbox webhooks (and
 * Stripe's): `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 */
export function signAlertBody(secret: string, body: string | Uint8Array, timestamp: number): string {
  return signTimestamped(secret, body, timestamp);
}

const invalid = (message: string) => new SettlekitError(ErrorCodes.WEBHOOK_SIGNATURE_INVALID, message);

export interface VerifyAlertOptions {
  /** The shared secret (the sink's `secret`). */
  readonly secret: string;
  /** The request body exactly as received (before any JSON parsing). */
  readonly body: string | Uint8Array;
  /** The `Settlekit-Signature` header. */
  readonly signature: string | undefined;
  /** Default: now. */
  readonly now?: Date;
  /** Largest accepted age of the signature either way, seconds (default 300): older is a replay. */
  readonly toleranceSeconds?: number;
}

/**
 * For the operator's receiving endpoint: checks the signature of an alert webhook over the raw
 * body (constant-time; several `v1` entries allowed while a secret is rotated) and returns the
 * alert it carries. Dedupe by `alert.alertId`: a retried delivery carries the same id.
 *
 * @throws {SettlekitError} WEBHOOK_SIGNATURE_INVALID when the header is missing or malformed, no
 *   `v1` matches, or the timestamp is outside the tolerance; VALIDATION_FAILED for a body that is
 *   not an alert.
 */
export function verifyAlertWebhook(options: VerifyAlertOptions): Alert {
  const { signature, secret, body } = options;
  checkTimestamped(
    {
      secret,
      body,
      header: signature,
      headerName: ALERT_SIGNATURE_HEADER,
      now: options.now ?? new Date(),
      toleranceSeconds: options.toleranceSeconds ?? 300,
      mismatch: "Alert signature does not match the body.",
    },
    invalid,
  );
  const text = typeof body === "string" ? body : new TextDecoder().decode(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "The alert body is not JSON.", { cause: error });
  }
  return alertFromJson(parsed);
}
