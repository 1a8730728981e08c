import type { DisputeStatus } from "../domain/dispute-status.js";

/**
 * A dispute (chargeback, or an inquiry before one) as the PSP reports it, mapped onto settlekit's
 * words. Every event is a snapshot of the whole dispute as of the event — its status and what the
 * PSP has withdrawn and reinstated so far — not a delta, so late, duplicated and reordered
 * deliveries converge on the same state (settlekit posts each movement once, by reference).
 */
export interface PspDisputeEvent {
  readonly kind: "dispute";
  readonly eventId: string;
  /**
   * The payment disputed, as `createHostedPayment` returned it (Stripe: the Checkout Session, found
   * from the dispute's PaymentIntent): settlekit finds the payment by it, and defers the event
   * while it does not know it.
   */
  readonly pspReference: string;
  /** The PSP's id of the dispute (Stripe `du_…`); the same across the dispute's events. */
  readonly disputeReference: string;
  readonly status: DisputeStatus;
  /** The disputed amount, ISO 4217 minor units; positive. */
  readonly amount: bigint;
  /** ISO 4217 code, uppercase. */
  readonly currency: string;
  /** The buyer's bank's reason, in the PSP's words (`fraudulent`, `product_not_received`…). */
  readonly reason?: string;
  /** When the evidence must reach the PSP (Stripe `evidence_details.due_by`), when it says. */
  readonly evidenceDueBy?: Date;
  /**
   * What the PSP took from the platform's balance for the dispute, once it did (Stripe: the
   * dispute's negative balance transaction): the amount and the dispute fee, minor units, ≥ 0.
   */
  readonly fundsWithdrawn?: { readonly amount: bigint; readonly fee: bigint };
  /**
   * What it gave back, once it did (Stripe: the positive balance transaction of a won dispute):
   * the amount and the part of the fee returned, minor units, ≥ 0.
   */
  readonly fundsReinstated?: { readonly amount: bigint; readonly feeReturned: bigint };
  readonly occurredAt: Date;
}
