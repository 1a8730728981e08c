import type {
  DisputeStatus,
  PaymentInstrument,
  PspDisputeEvent,
  PspEvent,
  PspPaymentStatus,
  PspPayoutStatus,
  WebhookInput,
} from "@settlekit/core";
import { PspError } from "@settlekit/core";
import { headerValue, SANDBOX_SIGNATURE_HEADER, verifySandboxSignature } from "./signature.js";

/** How each payment event type maps onto the port's statuses. */
const PAYMENT_STATUS: Readonly<Record<string, PspPaymentStatus>> = {
  "payment.processing": "processing",
  "payment.succeeded": "succeeded",
  "payment.failed": "failed",
  "payment.expired": "expired",
  "payment.canceled": "canceled",
};

const INSTRUMENTS: readonly string[] = ["credit_card", "debit_card", "bank_transfer"];

const malformed = (message: string): PspError =>
  // Signed by the sandbox yet unreadable: a bug, not something a retry fixes.
  new PspError("PSP_REQUEST_REJECTED", "fatal", `Malformed sandbox webhook: ${message}`, {
    pspCode: "malformed_event",
  });

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function text(object: Json, key: string): string {
  const value = object[key];
  if (typeof value !== "string" || value === "") throw malformed(`${key} must be a non-empty string`);
  return value;
}

function optionalText(object: Json, key: string): string | undefined {
  const value = object[key];
  return typeof value === "string" ? value : undefined;
}

/** Minor units travel as decimal strings; anything else (a JSON number included) is refused. */
function minorUnits(object: Json, key: string): bigint {
  const value = object[key];
  if (typeof value !== "string" || !/^-?\d+$/.test(value)) throw malformed(`${key} must be a decimal string`);
  return BigInt(value);
}

function section(data: Json, key: "payment" | "refund" | "dispute" | "payout"): Json {
  const value = data[key];
  if (!isObject(value)) throw malformed(`data.${key} is missing`);
  return value;
}

const DISPUTE_TYPES: readonly string[] = [
  "dispute.created",
  "dispute.updated",
  "dispute.funds_withdrawn",
  "dispute.funds_reinstated",
  "dispute.closed",
];
const DISPUTE_STATUS: Readonly<Record<string, DisputeStatus>> = {
  needs_response: "needs_response",
  under_review: "under_review",
  won: "won",
  lost: "lost",
};

/** A `dispute.*` body: the dispute's snapshot as of the event. */
function disputeEvent(eventId: string, occurredAt: Date, data: Json): PspDisputeEvent {
  const dispute = section(data, "dispute");
  const status = DISPUTE_STATUS[text(dispute, "status")];
  if (!status) throw malformed("dispute.status is not a sandbox dispute status");
  const due = dispute.evidence_due_by;
  const withdrawn = dispute.funds_withdrawn;
  const reinstated = dispute.funds_reinstated;
  return {
    kind: "dispute",
    eventId,
    pspReference: text(dispute, "payment_reference"),
    disputeReference: text(dispute, "reference"),
    status,
    amount: minorUnits(dispute, "amount"),
    currency: text(dispute, "currency"),
    reason: text(dispute, "reason"),
    ...(typeof due === "number" && Number.isSafeInteger(due) ? { evidenceDueBy: new Date(due * 1000) } : {}),
    ...(isObject(withdrawn)
      ? { fundsWithdrawn: { amount: minorUnits(withdrawn, "amount"), fee: minorUnits(withdrawn, "fee") } }
      : {}),
    ...(isObject(reinstated)
      ? {
          fundsReinstated: {
            amount: minorUnits(reinstated, "amount"),
            feeReturned: minorUnits(reinstated, "fee_returned"),
          },
        }
      : {}),
    occurredAt,
  };
}

const PAYOUT_STATUS: Readonly<Record<string, PspPayoutStatus>> = {
  paid: "paid",
  failed: "failed",
  partially_reversed: "partially_reversed",
  reversed: "reversed",
};

/**
 * A `payout.failed` / `payout.reversed` body: the payout's snapshot as of the event (the status
 * and the running `amount_reversed` it had then).
 */
function payoutEvent(eventId: string, occurredAt: Date, data: Json): PspEvent {
  const payout = section(data, "payout");
  const status = PAYOUT_STATUS[text(payout, "status")];
  if (!status) throw malformed("payout.status is not a sandbox payout status");
  const amountReversed = minorUnits(payout, "amount_reversed");
  const failureReason = optionalText(payout, "failure_reason");
  return {
    kind: "payout",
    eventId,
    payoutReference: text(payout, "reference"),
    payoutId: text(payout, "payout_id"),
    status,
    amount: minorUnits(payout, "amount"),
    ...(amountReversed > 0n ? { amountReversed } : {}),
    currency: text(payout, "currency"),
    ...(status === "failed" && failureReason ? { failureReason } : {}),
    occurredAt,
  };
}

/**
 * `PaymentProvider.parseWebhook` for the sandbox: verifies the signature over the raw bytes first
 * (nothing in an unverified body is trusted, not even its JSON), then maps the one event in the
 * body onto a {@link PspEvent}. Types the sandbox may add later come back as `ignored`.
 */
export function parseSandboxWebhook(
  input: WebhookInput,
  secret: string,
  toleranceSeconds: number,
  defaultNow: () => Date,
): PspEvent[] {
  const header = headerValue(input.headers, SANDBOX_SIGNATURE_HEADER);
  verifySandboxSignature(secret, input.rawBody, header, input.now ?? defaultNow(), toleranceSeconds);
  const raw = typeof input.rawBody === "string" ? input.rawBody : new TextDecoder().decode(input.rawBody);
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (cause) {
    throw new PspError("PSP_REQUEST_REJECTED", "fatal", "Malformed sandbox webhook: not JSON", { cause });
  }
  if (!isObject(body) || !isObject(body.data)) throw malformed("expected an event object with data");
  const eventId = text(body, "id");
  const type = text(body, "type");
  if (typeof body.created !== "number" || !Number.isSafeInteger(body.created)) {
    throw malformed("created must be integer Unix seconds");
  }
  const occurredAt = new Date(body.created * 1000);
  const status = PAYMENT_STATUS[type];
  if (status !== undefined) {
    const payment = section(body.data, "payment");
    const instrument = optionalText(payment, "instrument");
    const failureCode = optionalText(payment, "failure_code");
    const failureMessage = optionalText(payment, "failure_message");
    return [
      {
        kind: "payment",
        eventId,
        pspReference: text(payment, "reference"),
        paymentId: text(payment, "payment_id"),
        status,
        amount: minorUnits(payment, "amount"),
        currency: text(payment, "currency"),
        ...(instrument && INSTRUMENTS.includes(instrument)
          ? { instrument: instrument as PaymentInstrument }
          : {}),
        ...(status === "failed" && failureCode ? { failureCode } : {}),
        ...(status === "failed" && failureMessage ? { failureMessage } : {}),
        occurredAt,
      },
    ];
  }
  if (type === "refund.succeeded" || type === "refund.failed") {
    const refund = section(body.data, "refund");
    const refundId = optionalText(refund, "refund_id");
    return [
      {
        kind: "refund",
        eventId,
        pspReference: text(refund, "payment_reference"),
        refundReference: text(refund, "reference"),
        ...(refundId ? { refundId } : {}),
        status: type === "refund.failed" ? "failed" : "succeeded",
        amount: minorUnits(refund, "amount"),
        currency: text(refund, "currency"),
        occurredAt,
      },
    ];
  }
  if (DISPUTE_TYPES.includes(type)) return [disputeEvent(eventId, occurredAt, body.data)];
  if (type === "payout.failed" || type === "payout.reversed")
    return [payoutEvent(eventId, occurredAt, body.data)];
  return [{ kind: "ignored", eventId, type, occurredAt }];
}
