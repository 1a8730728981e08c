import { DISPUTE_STATUSES } from "../domain/dispute-status.js";
import { ORDER_REFUND_STATUSES } from "../domain/order-refund-status.js";
import { PAYMENT_METHODS } from "../domain/payment.js";
import { PAYMENT_ORDER_STATUSES } from "../domain/payment-order-status.js";
import { PAYMENT_STATUSES } from "../domain/payment-status.js";
import { PAYOUT_STATUSES } from "../domain/payout.js";
import type { JsonObject } from "../ports/json.js";
import { EVENT_SCHEMA_VERSION } from "./schema-version.js";

/**
 * The JSON Schemas (draft 2020-12) of the outbox events' payloads, one per event type: what a
 * consumer of the event stream (NATS, the in-process publisher) can rely on. Every payload carries
 * `schema_version` (the `Settlekit-Schema-Version` header on NATS); a breaking change bumps it.
 * Money is a decimal string of integer minor units beside its currency (never a JSON number),
 * instants are ISO 8601 UTC strings with milliseconds, absent values are `null`, never missing.
 */
export type EventSchema = JsonObject;

export { EVENT_SCHEMA_VERSION };

const DRAFT = "https://json-schema.org/draft/2020-12/schema";

const str = { type: "string" } as const;
const nullable = (schema: JsonObject): JsonObject => ({ anyOf: [schema, { type: "null" }] });
const nullableStr: JsonObject = { type: ["string", "null"] };
/** Money: integer minor units as a decimal string. */
const minor = { type: "string", pattern: "^(0|[1-9][0-9]*)$" } as const;
/** Signed money (a difference). */
const signedMinor = { type: "string", pattern: "^(0|-?[1-9][0-9]*)$" } as const;
const currency = { type: "string", pattern: "^[A-Z]{3}$" } as const;
const instant = {
  type: "string",
  pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
} as const;
const nullableInstant = nullable(instant);
const oneOf = (values: readonly string[]): JsonObject => ({ type: "string", enum: [...values] });
const integer = { type: "integer", minimum: 0 } as const;

/** A closed object: every property listed is required (absent values are `null`). */
function closed(properties: Record<string, JsonObject>, optional: readonly string[] = []): JsonObject {
  return {
    type: "object",
    properties,
    required: Object.keys(properties).filter((key) => !optional.includes(key)),
    additionalProperties: false,
  };
}

function eventSchema(
  type: string,
  description: string,
  properties: Record<string, JsonObject>,
  optional: readonly string[] = [],
): EventSchema {
  return {
    $schema: DRAFT,
    $id: `urn:settlekit:event:${type}:v${EVENT_SCHEMA_VERSION}`,
    title: type,
    description,
    ...closed({ schema_version: { const: EVENT_SCHEMA_VERSION }, ...properties }, optional),
  };
}

// payment.* — `paymentEventPayload`
const paymentProperties = (status: JsonObject): Record<string, JsonObject> => ({
  payment_id: str,
  buyer_id: str,
  status,
  amount: minor,
  currency,
  method: oneOf(PAYMENT_METHODS),
  psp: str,
  psp_reference: nullableStr,
  failure_reason: nullableStr,
  review: closed({
    reason: str,
    expected_amount: minor,
    expected_currency: currency,
    reported_amount: nullable(minor),
    reported_currency: nullable(currency),
  }),
  orders: {
    type: "array",
    minItems: 1,
    items: closed({ id: str, seller_id: str, amount: minor, status: oneOf(PAYMENT_ORDER_STATUSES) }),
  },
});
const paymentEvent = (type: string, status: string, description: string): EventSchema =>
  eventSchema(
    type,
    description,
    paymentProperties({ const: status }),
    // A payment once under review keeps its review details in its later events.
    status === "requires_review" ? [] : ["review"],
  );

// payment.capture_* — `unownedCapturePayload`
const captureProperties: Record<string, JsonObject> = {
  payment_id: str,
  psp: str,
  psp_reference: str,
  attempt: { type: "integer", minimum: 1 },
  amount: minor,
  currency,
  reason: nullable(oneOf(["superseded", "after_expiry", "after_cancel", "review_rejected"])),
  refund_status: nullable(oneOf(["pending", "succeeded", "failed"])),
  refund_reference: nullableStr,
};

// refund.* — `refundView`
const refundProperties = (status: JsonObject): Record<string, JsonObject> => ({
  id: str,
  object: { const: "refund" },
  payment_id: str,
  payment_order_id: str,
  amount: minor,
  currency,
  status,
  failure_reason: nullableStr,
  origin: oneOf(["settlekit", "external"]),
  psp_refund_reference: nullableStr,
  created_at: instant,
});
const refundStatus = oneOf(["pending", "succeeded", "failed"]);

// dispute.* — `disputeView`
const disputeEvent = (type: string, description: string, status?: string): EventSchema =>
  eventSchema(type, description, {
    id: str,
    object: { const: "dispute" },
    payment_id: str,
    psp: str,
    psp_dispute_reference: str,
    psp_reference: str,
    status: status ? { const: status } : oneOf(DISPUTE_STATUSES),
    reason: nullableStr,
    amount: minor,
    currency,
    amount_withdrawn: minor,
    amount_reinstated: minor,
    fee: minor,
    fee_returned: minor,
    fee_bearer: oneOf(["seller", "platform"]),
    evidence_due_by: nullableInstant,
    funds_withdrawn_at: nullableInstant,
    funds_reinstated_at: nullableInstant,
    orders: {
      type: "array",
      items: closed({ payment_order_id: str, seller_id: str, amount: minor, fee: minor }),
    },
    created_at: instant,
    updated_at: instant,
  });

// payment_order.* — `paymentOrderView` and the fees of its release
const paymentOrderProperties = (status: JsonObject, fee: JsonObject): Record<string, JsonObject> => ({
  id: str,
  object: { const: "payment_order" },
  payment_id: str,
  buyer_id: str,
  seller_id: str,
  currency,
  amount: minor,
  description: nullableStr,
  status,
  refund_status: oneOf(ORDER_REFUND_STATUSES),
  refunded_amount: minor,
  failure_reason: nullableStr,
  fulfilled_at: nullableInstant,
  shipped_at: nullableInstant,
  delivered_at: nullableInstant,
  available_at: nullableInstant,
  released_at: nullableInstant,
  paid_out_at: nullableInstant,
  created_at: instant,
  updated_at: instant,
  commission: fee,
  logistics: fee,
  net: fee,
});

// payout.* — `payoutView`
const payoutProperties = (status: JsonObject): Record<string, JsonObject> => ({
  id: str,
  object: { const: "payout" },
  seller_id: str,
  psp: str,
  status,
  trigger: oneOf(["scheduled", "manual"]),
  amount: minor,
  currency,
  source_amount: minor,
  source_currency: currency,
  fx: nullable(
    closed({
      rate_id: str,
      source: str,
      rate: { type: "string", pattern: "^[0-9]+(\\.[0-9]+)?$" },
      spread_bps: integer,
      converted_amount: minor,
      spread_amount: minor,
    }),
  ),
  psp_payout_reference: nullableStr,
  attempts: integer,
  failure_code: nullableStr,
  failure_message: nullableStr,
  amount_reversed: minor,
  created_at: instant,
  paid_at: nullableInstant,
  failed_at: nullableInstant,
});
const payoutEvent = (type: string, description: string, status?: string): EventSchema =>
  eventSchema(type, description, payoutProperties(status ? { const: status } : oneOf(PAYOUT_STATUSES)));

const schemas = {
  "payment.created": paymentEvent("payment.created", "created", "A payment was created with its orders."),
  "payment.registered": paymentEvent(
    "payment.registered",
    "requires_payment",
    "The PSP registered the payment: the buyer can pay.",
  ),
  "payment.processing": paymentEvent(
    "payment.processing",
    "processing",
    "The buyer paid with a method that settles later (a bank transfer).",
  ),
  "payment.succeeded": paymentEvent("payment.succeeded", "succeeded", "The payment succeeded."),
  "payment.failed": paymentEvent("payment.failed", "failed", "The payment failed (declined, …)."),
  "payment.canceled": paymentEvent("payment.canceled", "canceled", "The payment was canceled."),
  "payment.expired": paymentEvent("payment.expired", "expired", "The payment expired unpaid."),
  "payment.review_required": paymentEvent(
    "payment.review_required",
    "requires_review",
    "The PSP reported other money than the payment's: an operator reviews it.",
  ),
  "payment.capture_unowned": eventSchema(
    "payment.capture_unowned",
    "The PSP captured money no payment order owns (a superseded attempt, after expiry, …); it is refunded.",
    captureProperties,
  ),
  "payment.capture_refunded": eventSchema(
    "payment.capture_refunded",
    "The automatic refund of an unowned capture succeeded.",
    { ...captureProperties, refund_status: { const: "succeeded" }, failure_reason: { type: "null" } },
  ),
  "payment.capture_refund_failed": eventSchema(
    "payment.capture_refund_failed",
    "The automatic refund of an unowned capture failed (or bounced): an operator settles it.",
    { ...captureProperties, refund_status: { const: "failed" }, failure_reason: str },
  ),
  "payment_order.fulfilled": eventSchema(
    "payment_order.fulfilled",
    "The seller shipped or delivered the order; fees are set when it is released at once, else null.",
    paymentOrderProperties(oneOf(PAYMENT_ORDER_STATUSES), nullable(minor)),
  ),
  "payment_order.released": eventSchema(
    "payment_order.released",
    "The payout hold ended: the seller's share less `commission` and `logistics` (`net`) is available.",
    paymentOrderProperties(oneOf(PAYMENT_ORDER_STATUSES), minor),
  ),
  "refund.succeeded": eventSchema(
    "refund.succeeded",
    "A refund of a payment order succeeded (`reversed` is false: the shape of `refund.failed`).",
    { ...refundProperties({ const: "succeeded" }), reversed: { const: false } },
  ),
  "refund.failed": eventSchema(
    "refund.failed",
    "A refund failed; `reversed`: it had succeeded and was reversed (a bounced bank refund).",
    { ...refundProperties({ const: "failed" }), reversed: { type: "boolean" } },
  ),
  "refund.external": eventSchema(
    "refund.external",
    "A refund made at the PSP outside settlekit, booked against the payment's orders.",
    {
      payment_id: str,
      psp: str,
      psp_reference: str,
      psp_refund_reference: str,
      status: refundStatus,
      amount: minor,
      currency,
      reported_amount: minor,
      unallocated_amount: minor,
      refunds: { type: "array", items: closed(refundProperties(refundStatus)) },
    },
  ),
  "refund.external_discrepancy": eventSchema(
    "refund.external_discrepancy",
    "A refund made at the PSP outside settlekit that cannot be booked as reported: an operator looks.",
    {
      reason: oneOf(["exceeds_refundable", "currency_mismatch", "invalid_amount", "payment_not_refundable"]),
      payment_id: str,
      payment_status: oneOf(PAYMENT_STATUSES),
      psp: str,
      psp_reference: str,
      psp_refund_reference: str,
      psp_status: refundStatus,
      reported_amount: signedMinor,
      reported_currency: str,
      expected_currency: currency,
      booked_amount: minor,
      unallocated_amount: signedMinor,
    },
  ),
  "dispute.created": disputeEvent("dispute.created", "A buyer disputed the payment (first report)."),
  "dispute.updated": disputeEvent(
    "dispute.updated",
    "The dispute's status, reason or evidence deadline changed (not to an outcome).",
  ),
  "dispute.funds_withdrawn": disputeEvent(
    "dispute.funds_withdrawn",
    "The PSP withdrew the disputed amount and its fee.",
  ),
  "dispute.funds_reinstated": disputeEvent(
    "dispute.funds_reinstated",
    "The PSP gave back (part of) what it withdrew.",
  ),
  "dispute.won": disputeEvent("dispute.won", "The dispute was decided for the platform.", "won"),
  "dispute.lost": disputeEvent("dispute.lost", "The dispute was decided for the buyer.", "lost"),
  "payout.created": payoutEvent("payout.created", "A seller's available money was reserved for a payout."),
  "payout.paid": payoutEvent("payout.paid", "The PSP paid the payout.", "paid"),
  "payout.failed": payoutEvent(
    "payout.failed",
    "The payout failed; its money is back in the seller's available balance.",
    "failed",
  ),
  "payout.reversed": payoutEvent(
    "payout.reversed",
    "A paid payout was reversed (returned by the bank, or taken back for a clawback).",
  ),
  "payout.clawback_failed": eventSchema(
    "payout.clawback_failed",
    "A refund could not be taken back from the payout that paid it: the next payout nets it.",
    {
      ...payoutProperties(oneOf(PAYOUT_STATUSES)),
      refund_id: str,
      payment_order_id: str,
      clawback_amount: minor,
      clawback_source_amount: minor,
      clawback_failure_reason: str,
      fallback: { const: "net_next_payout" },
    },
  ),
} as const satisfies Record<string, EventSchema>;

/** Every outbox event type settlekit emits. */
export type EventType = keyof typeof schemas;

/** The JSON Schema (draft 2020-12) of each outbox event type's payload. */
export const eventSchemas: Readonly<Record<EventType, EventSchema>> = schemas;

/** Every outbox event type settlekit emits, in the order of {@link eventSchemas}. */
export const EVENT_TYPES = Object.keys(schemas) as EventType[];

/** The JSON Schema of an event type's payload, or `undefined` for a type settlekit does not emit. */
export function eventSchemaFor(type: string): EventSchema | undefined {
  return Object.hasOwn(schemas, type) ? schemas[type as EventType] : undefined;
}
