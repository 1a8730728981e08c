import type { RefundInput, RefundResult, RetrievedRefund, RetrieveRefundInput } from "@settlekit/core";
import { PspError, requestFingerprint, requireRequestFields } from "@settlekit/core";
import type { SandboxContext } from "./context.js";
import { disputedAmount } from "./disputes.js";
import { rejected, requireCurrency } from "./errors.js";
import { findPayment } from "./payment-attempt.js";
import type { SandboxPayment, SandboxRefund } from "./records.js";
import { newId } from "./records.js";

const result = (refund: SandboxRefund): RefundResult => ({
  refundReference: refund.refundReference,
  status: refund.status,
});

/** What a refund's idempotency key (and its settlekit refund id) is bound to. */
function fingerprint(input: RefundInput): string {
  const { idempotencyKey: _key, ...rest } = input;
  return requestFingerprint(rest);
}

const validate = (input: RefundInput): void => requireRequestFields(input, ["refundId"]);

/**
 * `refund`: partial or full, settled at once, emitting `refund.succeeded` (or, held by
 * `faults.holdNextRefunds`, answered `pending` with no event until the fault settles it).
 *
 * Replays: the same idempotency key with the same parameters returns the first result; so does
 * the same settlekit `refundId` under another key ("already refunded" is success, so a host that
 * lost the first answer and retried with a fresh key refunds once). Either one with different
 * parameters is a fatal `idempotency_error`.
 *
 * @throws {PspError} fatal `REFUND_EXCEEDS_CAPTURED` (`amount_too_large`) beyond what is left;
 *   fatal `PSP_REQUEST_REJECTED` for a payment that has not succeeded (`charge_not_refundable`)
 *   or another currency (`currency_mismatch`); `NOT_FOUND` for an unknown payment.
 */
export function refundPayment(ctx: SandboxContext, input: RefundInput): RefundResult {
  validate(input);
  const print = fingerprint(input);
  const known = ctx.state.refundRequests.earlier(input.idempotencyKey, input.refundId, print);
  if (known) return result(ctx.state.refunds.get(known)!);
  const payment = refundablePayment(ctx, input.pspReference, input.amount, input.currency);
  const refund = makeRefund(ctx, payment, input.amount, {
    refundId: input.refundId,
    reason: input.reason,
    hold: ctx.faults.takeRefundHold(),
  });
  ctx.state.refundRequests.remember(input.idempotencyKey, input.refundId, print, refund.refundReference);
  return result(refund);
}

/** The payment, when it can give back `amount` in `currency`; the PSP's refusal otherwise. */
function refundablePayment(ctx: SandboxContext, pspReference: string, amount: bigint, currency: string) {
  const payment = findPayment(ctx, pspReference);
  if (payment.status !== "succeeded") {
    throw rejected(
      `Payment ${payment.pspReference} is ${payment.status}; only succeeded payments can be refunded.`,
      "charge_not_refundable",
      "pspReference",
    );
  }
  if (currency !== payment.currency) {
    throw rejected(
      `Refund currency ${currency} differs from the payment's ${payment.currency}.`,
      "currency_mismatch",
      "currency",
    );
  }
  // Like card networks, money a dispute took back cannot be refunded as well.
  const left = payment.amount - payment.amountRefunded - disputedAmount(ctx, payment.pspReference);
  if (amount > left) {
    throw new PspError(
      "REFUND_EXCEEDS_CAPTURED",
      "fatal",
      `Refund of ${amount} exceeds the ${left} minor units left to refund.`,
      { pspCode: "amount_too_large", param: "amount" },
    );
  }
  return payment;
}

/**
 * `retrieveRefund`: the refund of the payment `pspReference` names, by its reference, else by
 * settlekit's `refundId` (the sandbox keeps it with the refund); null when the payment has no
 * such refund — for a `refundId`, the refund was never made (no call got through). The status is
 * the refund's now (held refunds are `pending` until they settle).
 *
 * @throws {PspError} `NOT_FOUND` for an unknown payment; fatal `PSP_REQUEST_REJECTED` without
 *   either reference or with an invalid currency.
 */
export function retrieveRefund(ctx: SandboxContext, input: RetrieveRefundInput): RetrievedRefund | null {
  if (!input.refundReference && !input.refundId) {
    throw rejected("refundReference or refundId is required.", "parameter_missing", "refundReference");
  }
  requireCurrency(input.currency);
  findPayment(ctx, input.pspReference);
  const refund = ctx.state
    .refundsOf(input.pspReference)
    .find((r) =>
      input.refundReference ? r.refundReference === input.refundReference : r.refundId === input.refundId,
    );
  if (!refund) return null;
  return {
    refundReference: refund.refundReference,
    ...(refund.refundId === undefined ? {} : { refundId: refund.refundId }),
    status: refund.status,
    amount: refund.amount,
    currency: refund.currency,
  };
}

/** Records a refund of `payment` (settled at once unless held) and emits its event when settled. */
function makeRefund(
  ctx: SandboxContext,
  payment: SandboxPayment,
  amount: bigint,
  options: { refundId?: string | undefined; reason?: string | undefined; hold: boolean },
): SandboxRefund {
  const refund: SandboxRefund = {
    refundReference: newId("sbx_re"),
    pspReference: payment.pspReference,
    refundId: options.refundId,
    amount,
    currency: payment.currency,
    reason: options.reason,
    status: options.hold ? "pending" : "succeeded",
    createdAt: ctx.now(),
  };
  ctx.state.refunds.set(refund.refundReference, refund);
  payment.amountRefunded += amount;
  payment.updatedAt = refund.createdAt;
  if (refund.status === "succeeded") ctx.emit("refund.succeeded", payment, refund);
  return refund;
}

/**
 * `sandbox.refundFromDashboard`: a refund made at the sandbox directly, as a Stripe Dashboard
 * refund is — not through `refund`, so it carries no settlekit refund id (`refund_id: null` in
 * its webhook). The same checks as `refund` (a succeeded payment, never more than is left);
 * `amount` defaults to everything left. Settles at once with `refund.succeeded`, or with
 * `hold: true` stays `pending` (no event) until `faults.settleHeldRefunds`.
 */
export function refundFromDashboard(
  ctx: SandboxContext,
  pspReference: string,
  amount?: bigint,
  options: { hold?: boolean; reason?: string } = {},
): SandboxRefund {
  const payment = findPayment(ctx, pspReference);
  const refunded = amount ?? payment.amount - payment.amountRefunded;
  if (typeof refunded !== "bigint" || refunded <= 0n) {
    throw rejected("amount must be a positive bigint of minor units.", "parameter_invalid", "amount");
  }
  refundablePayment(ctx, pspReference, refunded, payment.currency);
  return makeRefund(ctx, payment, refunded, { reason: options.reason, hold: options.hold === true });
}

/** The money of a refund that failed goes back to its payment, and `refund.failed` goes out. */
function failRefund(ctx: SandboxContext, refund: SandboxRefund): void {
  const payment = findPayment(ctx, refund.pspReference);
  refund.status = "failed";
  payment.amountRefunded -= refund.amount;
  payment.updatedAt = ctx.now();
  ctx.emit("refund.failed", payment, refund);
}

/** `faults.settleHeldRefunds`: every pending refund, oldest first, succeeds or fails. */
export function settleHeldRefunds(ctx: SandboxContext, outcome: "succeeded" | "failed"): void {
  for (const refund of ctx.state.refunds.values()) {
    if (refund.status !== "pending") continue;
    if (outcome === "failed") {
      failRefund(ctx, refund);
      continue;
    }
    refund.status = "succeeded";
    ctx.emit("refund.succeeded", findPayment(ctx, refund.pspReference), refund);
  }
}

/** `faults.failRefundAfterSuccess`: a succeeded refund bounces (bank refunds do). */
export function failRefundAfterSuccess(ctx: SandboxContext, refundReference: string): void {
  const refund = ctx.state.refunds.get(refundReference);
  if (refund?.status !== "succeeded") {
    throw new RangeError(`No succeeded sandbox refund ${refundReference}.`);
  }
  // The settlement lists the refund and, now, its money coming back.
  refund.bouncedAt = ctx.now();
  refund.bounceReference = newId("sbx_rfb");
  failRefund(ctx, refund);
}
