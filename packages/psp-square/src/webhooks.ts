import { createHmac, timingSafeEqual } from "node:crypto";
import type { PspEvent, WebhookInput } from "@settlekit/core";
import { PspError } from "@settlekit/core";
import { parseExactJson } from "./json.js";
import type { ResolvedSquareOptions } from "./options.js";
import { failureOf, instrumentOf, minor, paymentStatus } from "./payments.js";
import { refundIdOf, refundStatus } from "./refunds.js";

/** Square's signature header (node:http lowercases names). */
export const SIGNATURE_HEADER = "x-square-hmacsha256-signature";

const invalidSignature = (message: string) =>
  new PspError("WEBHOOK_SIGNATURE_INVALID", "fatal", `Square webhook refused: ${message}`, {
    pspCode: "signature_verification_failed",
  });

const bytesOf = (body: string | Uint8Array): Buffer =>
  typeof body === "string"
    ? Buffer.from(body, "utf8")
    : Buffer.from(body.buffer, body.byteOffset, body.byteLength);

/**
 * Square's signature of a notification: base64 HMAC-SHA256, keyed with the subscription's
 * signature key, over the notification URL followed by the raw body — what the SDK's
 * `WebhooksHelper.verifySignature` checks (its tests' vectors pass here), computed over bytes.
 */
export function squareSignature(
  signatureKey: string,
  notificationUrl: string,
  rawBody: string | Uint8Array,
): Buffer {
  return createHmac("sha256", signatureKey)
    .update(Buffer.from(notificationUrl, "utf8"))
    .update(bytesOf(rawBody))
    .digest();
}

/**
 * Verifies `x-square-hmacsha256-signature` against every configured key, comparing in constant
 * time (the SDK's helper compares strings with `===`, so the comparison is done here). Square signs
 * no timestamp: a replayed notification verifies, and is dropped by its `event_id` (core's dedupe).
 */
export function verifySquareSignature(options: ResolvedSquareOptions, input: WebhookInput): void {
  const header = input.headers[SIGNATURE_HEADER];
  const signature = Array.isArray(header) ? header[0] : header;
  if (typeof signature !== "string" || signature === "")
    throw invalidSignature(`no ${SIGNATURE_HEADER} header`);
  const received = Buffer.from(signature, "base64");
  const wellFormed = received.length === 32 && received.toString("base64") === signature.trim();
  if (wellFormed) {
    for (const key of options.signatureKeys) {
      if (timingSafeEqual(received, squareSignature(key, options.notificationUrl, input.rawBody))) return;
    }
  }
  throw invalidSignature(
    `signature does not match: check SQUARE_WEBHOOK_SIGNATURE_KEY and that the notification URL is exactly ${options.notificationUrl} (Square signs the URL of the webhook subscription with the body; scheme, host, path and trailing slash must match)`,
  );
}

// biome-ignore lint/suspicious/noExplicitAny: a verified notification's snake_case JSON, read field by field.
type Json = Record<string, any>;

const dateOf = (value: unknown, fallback: Date): Date => {
  const at = typeof value === "string" ? Date.parse(value) : Number.NaN;
  return Number.isNaN(at) ? fallback : new Date(at);
};

const payoutStatus = { "payout.sent": "pending", "payout.paid": "paid", "payout.failed": "failed" } as const;

/** One verified notification as the port's event (Square sends one event per notification). */
function toEvent(notification: Json, receivedAt: Date): PspEvent {
  const eventId = String(notification.event_id ?? "");
  const type = String(notification.type ?? "");
  const occurredAt = dateOf(notification.created_at, receivedAt);
  const object = (notification.data?.object ?? {}) as Json;
  const ignored: PspEvent = { kind: "ignored", eventId, type, occurredAt };
  if (type === "payment.created" || type === "payment.updated") {
    const payment = object.payment as Json | undefined;
    if (!payment?.order_id) return ignored; // not taken on a payment link's order
    const status = paymentStatus(payment.status);
    if (status === "requires_payment") return ignored;
    const instrument = instrumentOf({
      sourceType: payment.source_type,
      cardDetails: { card: { cardType: payment.card_details?.card?.card_type } },
    });
    const failure = failureOf({
      status: payment.status,
      cardDetails: payment.card_details,
      bankAccountDetails: payment.bank_account_details,
    });
    const base = {
      kind: "payment" as const,
      eventId,
      pspReference: String(payment.order_id),
      ...(payment.reference_id ? { paymentId: String(payment.reference_id) } : {}),
      ...(instrument ? { instrument } : {}),
      ...failure,
      occurredAt: dateOf(payment.updated_at, occurredAt),
    };
    const money = payment.amount_money as Json | undefined;
    const amount = minor(money?.amount, `payment ${payment.id}`);
    const currency = String(money?.currency ?? "");
    return status === "succeeded"
      ? { ...base, status, amount, currency }
      : { ...base, status, amount, currency };
  }
  if (type === "order.updated") {
    const updated = object.order_updated as Json | undefined;
    // An order canceled unpaid: its payment link takes no more payment (Square never expires a link itself).
    if (updated?.state !== "CANCELED" || !updated.order_id) return ignored;
    return {
      kind: "payment",
      eventId,
      pspReference: String(updated.order_id),
      status: "expired",
      occurredAt: dateOf(updated.updated_at, occurredAt),
    };
  }
  if (type === "refund.created" || type === "refund.updated") {
    const refund = object.refund as Json | undefined;
    if (!refund?.id || !refund.order_id) return ignored;
    const status = refundStatus(refund.status);
    const refundId = refundIdOf(refund.reason);
    return {
      kind: "refund",
      eventId,
      pspReference: String(refund.order_id),
      refundReference: String(refund.id),
      ...(refundId ? { refundId } : {}),
      status,
      ...(status === "failed" ? { failureReason: String(refund.status) } : {}),
      amount: minor(refund.amount_money?.amount, `refund ${refund.id}`),
      currency: String(refund.amount_money?.currency ?? ""),
      occurredAt: dateOf(refund.updated_at, occurredAt),
    };
  }
  if (type in payoutStatus) {
    const payout = object.payout as Json | undefined;
    if (!payout?.id) return ignored;
    return {
      kind: "bank_payout",
      eventId,
      bankPayoutReference: String(payout.id),
      status: payoutStatus[type as keyof typeof payoutStatus],
      amount: minor(payout.amount_money?.amount, `payout ${payout.id}`),
      currency: String(payout.amount_money?.currency ?? ""),
      ...(payout.arrival_date ? { arrivalAt: dateOf(`${payout.arrival_date}T00:00:00Z`, occurredAt) } : {}),
      occurredAt: dateOf(payout.updated_at, occurredAt),
    };
  }
  return ignored;
}

/** Verifies the notification, then normalises it (see `toEvent`); a body that is not Square's JSON is refused. */
export function parseSquareWebhook(options: ResolvedSquareOptions, input: WebhookInput): PspEvent[] {
  verifySquareSignature(options, input);
  let notification: Json;
  try {
    const text = typeof input.rawBody === "string" ? input.rawBody : new TextDecoder().decode(input.rawBody);
    notification = parseExactJson(text) as Json;
  } catch (cause) {
    throw new PspError("PSP_REQUEST_REJECTED", "fatal", "Square webhook body is not JSON.", {
      pspCode: "invalid_json",
      cause,
    });
  }
  if (typeof notification?.event_id !== "string" || notification.event_id === "") {
    throw new PspError("PSP_REQUEST_REJECTED", "fatal", "Square webhook without event_id.", {
      pspCode: "invalid_event",
    });
  }
  return [toEvent(notification, input.now ?? options.clock.now())];
}
