import type { PaymentInstrument } from "@settlekit/core";
import type { SandboxContext } from "./context.js";
import { disputeIfAsked } from "./disputes.js";
import { rejected } from "./errors.js";
import type { SandboxPayment } from "./records.js";

/**
 * The sandbox's payment state changes, each emitting its webhook event. Its own machine mirrors
 * what a hosted page allows, which is a subset of settlekit's payment machine:
 * `requires_payment | failed → succeeded | failed | processing` (a declined buyer may try again on
 * the same page), `processing → succeeded` (settlement), `requires_payment | failed | processing →
 * expired`, and `requires_payment | failed → canceled` (the host closed the page:
 * `cancelHostedPayment`). `succeeded`, `expired` and `canceled` are final; refunds are counted
 * beside the status, in `amountRefunded`.
 */

/** Whether the buyer may submit a payment now. */
export function isPayable(payment: SandboxPayment): boolean {
  return payment.status === "requires_payment" || payment.status === "failed";
}

function touch(ctx: SandboxContext, payment: SandboxPayment, last4: string | undefined): void {
  payment.attempt++;
  payment.last4 = last4;
  payment.failureCode = undefined;
  payment.failureMessage = undefined;
  payment.updatedAt = ctx.now();
}

function succeed(ctx: SandboxContext, payment: SandboxPayment): void {
  const now = ctx.now();
  payment.status = "succeeded";
  payment.succeededAt = now;
  payment.updatedAt = now;
  payment.fee = ctx.options.feePolicy(payment.amount, payment.currency, payment.instrument ?? "credit_card");
  ctx.emit("payment.succeeded", payment);
  disputeIfAsked(ctx, payment.pspReference);
}

/** A charge that succeeded on the spot. */
export function chargeSucceeded(
  ctx: SandboxContext,
  payment: SandboxPayment,
  instrument: PaymentInstrument,
  last4?: string,
): void {
  touch(ctx, payment, last4);
  payment.instrument = instrument;
  succeed(ctx, payment);
}

/** A declined charge: the page shows why, and the buyer may try again until expiry. */
export function chargeFailed(
  ctx: SandboxContext,
  payment: SandboxPayment,
  failureCode: string,
  failureMessage: string,
  last4?: string,
): void {
  touch(ctx, payment, last4);
  payment.status = "failed";
  payment.failureCode = failureCode;
  payment.failureMessage = failureMessage;
  ctx.emit("payment.failed", payment);
}

/**
 * An accepted attempt whose money arrives later (bank transfer, asynchronous card). It settles
 * after `bankTransferSettleMs`, unless something else (`settle()`, `expire()`) got there first:
 * the timer remembers its attempt and does nothing for a later one.
 */
export function chargeProcessing(
  ctx: SandboxContext,
  payment: SandboxPayment,
  instrument: PaymentInstrument,
  last4?: string,
): void {
  touch(ctx, payment, last4);
  payment.instrument = instrument;
  payment.status = "processing";
  ctx.emit("payment.processing", payment);
  const attempt = payment.attempt;
  ctx.scheduler.after(ctx.options.bankTransferSettleMs, () => {
    if (payment.status === "processing" && payment.attempt === attempt) succeed(ctx, payment);
  });
}

/** `sandbox.settle()`: the pending money arrives now. */
export function settleNow(ctx: SandboxContext, payment: SandboxPayment): void {
  if (payment.status !== "processing") {
    throw rejected(
      `Payment ${payment.pspReference} is ${payment.status}, not processing.`,
      "payment_not_processing",
    );
  }
  succeed(ctx, payment);
}

/**
 * Closes an unpaid payment. The expiry timer passes `includeProcessing: false` (a buyer who
 * submitted a transfer is waiting on the bank, not on us); `sandbox.expire()` may also close a
 * transfer that never arrived.
 */
export function expire(ctx: SandboxContext, payment: SandboxPayment, includeProcessing: boolean): boolean {
  if (!isPayable(payment) && !(includeProcessing && payment.status === "processing")) return false;
  payment.status = "expired";
  payment.updatedAt = ctx.now();
  ctx.emit("payment.expired", payment);
  return true;
}

/**
 * `cancelHostedPayment`: the host closes a payment the buyer could still pay; from now on its page
 * refuses payment. Reported like an expiry, by its own event (`payment.canceled`). Returns whether
 * it closed anything (a paid, processing or already closed payment stays as it is).
 */
export function close(ctx: SandboxContext, payment: SandboxPayment): boolean {
  if (!isPayable(payment)) return false;
  payment.status = "canceled";
  payment.updatedAt = ctx.now();
  ctx.emit("payment.canceled", payment);
  return true;
}

/** Applies a deadline that passed while no timer ran (manual clock, busy loop): it still holds. */
export function expireIfDue(ctx: SandboxContext, payment: SandboxPayment): void {
  if (ctx.now().getTime() >= payment.expiresAt.getTime()) expire(ctx, payment, false);
}
