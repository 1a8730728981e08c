import type { SandboxPayment, SandboxRefund } from "./records.js";
import { newId } from "./records.js";

/** Event types the sandbox emits. */
export type SandboxEventType =
  | "payment.processing"
  | "payment.succeeded"
  | "payment.failed"
  | "payment.expired"
  | "payment.canceled"
  | "refund.succeeded"
  | "refund.failed";

/**
 * A payment in a webhook body. Money is a string of minor units (`"12345"`), never a JSON
 * number: a double cannot carry every bigint amount exactly.
 */
export interface SandboxPaymentWire {
  readonly reference: string;
  readonly checkout_id: string;
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
 * A webhook body, Stripe-shaped: `created` is Unix seconds; `data` holds a snapshot of the
 * payment (and the refund, for refund events) as of the event.
 */
export interface SandboxEventBody {
  readonly id: string;
  readonly type: SandboxEventType | (string & {});
  readonly created: number;
  readonly data: { readonly payment?: SandboxPaymentWire; readonly refund?: SandboxRefundWire };
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
    checkout_id: payment.checkoutId,
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

/** Builds the body of a new event, with a fresh `evt_…` id, serialised once (what gets signed). */
export function eventBody(
  type: SandboxEventType,
  at: Date,
  payment: SandboxPayment,
  refund?: SandboxRefund,
): { id: string; rawBody: string } {
  const body: SandboxEventBody = {
    id: newId("evt"),
    type,
    created: Math.floor(at.getTime() / 1000),
    data: refund
      ? { payment: paymentWire(payment), refund: refundWire(refund) }
      : { payment: paymentWire(payment) },
  };
  return { id: body.id, rawBody: JSON.stringify(body) };
}
