import type { SandboxDispute, SandboxPayment, SandboxPayout, SandboxRefund } from "./records.js";
import { newId } from "./records.js";

/** Event types the sandbox emits. */
export type SandboxEventType =
  | "payment.processing"
  | "payment.succeeded"
  | "payment.failed"
  | "payment.expired"
  | "payment.canceled"
  | "refund.succeeded"
  | "refund.failed"
  | "dispute.created"
  | "dispute.updated"
  | "dispute.funds_withdrawn"
  | "dispute.funds_reinstated"
  | "dispute.closed"
  | "payout.failed"
  | "payout.reversed";

/**
 * A payment in a webhook body. Money is a string of minor units (`"12345"`), never a JSON
 * number: a double cannot carry every bigint amount exactly.
 */
export interface SandboxPaymentWire {
  readonly reference: string;
  readonly payment_id: string;
  readonly status: string;
  readonly amount: string;
  readonly currency: string;
  readonly amount_refunded: string;
  readonly method: string;
  readonly instrument: string | null;
  readonly last4: string | null;
  readonly failure_code: string | null;
  readonly failure_message: string | null;
  readonly metadata: Readonly<Record<string, string>>;
}

/** A refund in a webhook body (amount in minor units, as a string). */
export interface SandboxRefundWire {
  readonly reference: string;
  readonly payment_reference: string;
  /** `null` for a refund made in the sandbox's dashboard, not by settlekit. */
  readonly refund_id: string | null;
  readonly amount: string;
  readonly currency: string;
  readonly status: string;
  readonly reason: string | null;
}

/**
 * A dispute in a webhook body: a snapshot of the whole dispute as of the event (money in minor
 * units as strings; `evidence_due_by` in Unix seconds).
 */
export interface SandboxDisputeWire {
  readonly reference: string;
  readonly payment_reference: string;
  readonly amount: string;
  readonly currency: string;
  readonly reason: string;
  readonly status: string;
  readonly evidence_due_by: number;
  readonly funds_withdrawn: { readonly amount: string; readonly fee: string } | null;
  readonly funds_reinstated: { readonly amount: string; readonly fee_returned: string } | null;
}

/**
 * A payout to a seller in a webhook body, as of the event (money in minor units as strings):
 * `amount` is what was paid out, `amount_reversed` the running total taken back.
 */
export interface SandboxPayoutWire {
  readonly reference: string;
  readonly payout_id: string;
  readonly seller_id: string;
  readonly amount: string;
  readonly amount_reversed: string;
  readonly currency: string;
  readonly status: string;
  readonly failure_reason: string | null;
}

/**
 * A webhook body, Stripe-shaped: `created` is Unix seconds; `data` holds a snapshot of the
 * payment (and the refund, for refund events) as of the event; a `payout.*` event holds the
 * payout alone (a payout belongs to a seller, not to one payment).
 */
export interface SandboxEventBody {
  readonly id: string;
  readonly type: SandboxEventType | (string & {});
  readonly created: number;
  readonly data: {
    readonly payment?: SandboxPaymentWire;
    readonly refund?: SandboxRefundWire;
    readonly dispute?: SandboxDisputeWire;
    readonly payout?: SandboxPayoutWire;
  };
}

/**
 * An emitted event: its body exactly as signed and sent, and headers signed at `created`, ready
 * to hand to `parseWebhook` (each delivery attempt is signed again at its own send time).
 */
export interface SandboxEvent {
  readonly id: string;
  readonly type: SandboxEventType;
  readonly created: Date;
  readonly rawBody: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** One delivery attempt of one event, as the sandbox logged it. */
export interface SandboxDelivery {
  readonly eventId: string;
  readonly type: string;
  /** 1 for a first send, 2… for retries of the same copy. */
  readonly attempt: number;
  /** The body exactly as sent (the bytes the signature covers). */
  readonly rawBody: string;
  /** The headers as sent, signed at `sentAt`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly sentAt: Date;
  /**
   * `recorded`: no `webhookUrl` is configured, so the delivery only went into this log;
   * `delivered`: the host answered 2xx; `failed`: another status, a network error or a timeout.
   */
  readonly outcome: "recorded" | "delivered" | "failed";
  readonly status?: number;
  readonly error?: string;
  /** When the next attempt is due, when this one failed and attempts remain. */
  readonly retryAt?: Date;
}

export function paymentWire(payment: SandboxPayment): SandboxPaymentWire {
  return {
    reference: payment.pspReference,
    payment_id: payment.paymentId,
    status: payment.status,
    amount: payment.amount.toString(),
    currency: payment.currency,
    amount_refunded: payment.amountRefunded.toString(),
    method: payment.method,
    instrument: payment.instrument ?? null,
    last4: payment.last4 ?? null,
    failure_code: payment.failureCode ?? null,
    failure_message: payment.failureMessage ?? null,
    metadata: payment.metadata,
  };
}

export function refundWire(refund: SandboxRefund): SandboxRefundWire {
  return {
    reference: refund.refundReference,
    payment_reference: refund.pspReference,
    refund_id: refund.refundId ?? null,
    amount: refund.amount.toString(),
    currency: refund.currency,
    status: refund.status,
    reason: refund.reason ?? null,
  };
}

export function disputeWire(dispute: SandboxDispute): SandboxDisputeWire {
  return {
    reference: dispute.disputeReference,
    payment_reference: dispute.pspReference,
    amount: dispute.amount.toString(),
    currency: dispute.currency,
    reason: dispute.reason,
    status: dispute.status,
    evidence_due_by: Math.floor(dispute.evidenceDueBy.getTime() / 1000),
    funds_withdrawn: { amount: dispute.withdrawn.amount.toString(), fee: dispute.withdrawn.fee.toString() },
    funds_reinstated: dispute.reinstated
      ? {
          amount: dispute.reinstated.amount.toString(),
          fee_returned: dispute.reinstated.feeReturned.toString(),
        }
      : null,
  };
}

export function payoutWire(payout: SandboxPayout): SandboxPayoutWire {
  return {
    reference: payout.payoutReference,
    payout_id: payout.payoutId,
    seller_id: payout.sellerId,
    amount: payout.amount.toString(),
    amount_reversed: payout.amountReversed.toString(),
    currency: payout.currency,
    status: payout.status,
    failure_reason: payout.failureReason ?? null,
  };
}

/** What an event is about besides its payment: a refund, a dispute, or (with no payment) a payout. */
export type EventSubject = {
  readonly refund?: SandboxRefund;
  readonly dispute?: SandboxDispute;
  readonly payout?: SandboxPayout;
};

/** Builds the body of a new event, with a fresh `evt_…` id, serialised once (what gets signed). */
export function eventBody(
  type: SandboxEventType,
  at: Date,
  payment: SandboxPayment | undefined,
  subject: EventSubject = {},
): { id: string; rawBody: string } {
  const body: SandboxEventBody = {
    id: newId("evt"),
    type,
    created: Math.floor(at.getTime() / 1000),
    data: {
      ...(payment ? { payment: paymentWire(payment) } : {}),
      ...(subject.refund ? { refund: refundWire(subject.refund) } : {}),
      ...(subject.dispute ? { dispute: disputeWire(subject.dispute) } : {}),
      ...(subject.payout ? { payout: payoutWire(subject.payout) } : {}),
    },
  };
  return { id: body.id, rawBody: JSON.stringify(body) };
}
