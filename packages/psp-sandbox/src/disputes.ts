import type { SandboxContext } from "./context.js";
import { rejected } from "./errors.js";
import { findPayment } from "./payment-attempt.js";
import type { SandboxDispute } from "./records.js";
import { newId } from "./records.js";

/** How long the platform has to send evidence: 7 days, like a card network's response window. */
const EVIDENCE_WINDOW_MS = 7 * 86_400_000;

/** What `openDispute` may say about the dispute. */
export interface SandboxDisputeOptions {
  /** Minor units; default: what is left of the payment after refunds. */
  readonly amount?: bigint;
  /** The buyer's bank's reason (default `fraudulent`). */
  readonly reason?: string;
}

/** What `winDispute` may say: how much of the dispute fee comes back (default none, as Stripe mostly keeps it). */
export interface SandboxWinOptions {
  readonly feeReturned?: bigint;
}

/** What disputes of a payment hold: withdrawn and not reinstated (neither refundable nor disputable again). */
export function disputedAmount(ctx: SandboxContext, pspReference: string): bigint {
  return [...ctx.state.disputes.values()]
    .filter((d) => d.pspReference === pspReference && d.reinstated === undefined)
    .reduce((sum, d) => sum + d.withdrawn.amount, 0n);
}

const snapshot = (dispute: SandboxDispute): Readonly<SandboxDispute> => Object.freeze({ ...dispute });

function findDispute(ctx: SandboxContext, disputeReference: string): SandboxDispute {
  const dispute = ctx.state.disputes.get(disputeReference);
  if (!dispute)
    throw rejected(`No sandbox dispute ${disputeReference}.`, "resource_missing", "disputeReference");
  return dispute;
}

function emit(
  ctx: SandboxContext,
  type: Parameters<SandboxContext["emit"]>[0],
  dispute: SandboxDispute,
): void {
  ctx.emit(type, findPayment(ctx, dispute.pspReference), { dispute });
}

/**
 * `sandbox.openDispute`: the buyer's bank disputes a succeeded payment. The amount and the
 * dispute fee (`disputeFeePolicy`) are withdrawn at once; `dispute.created` then
 * `dispute.funds_withdrawn` go out, each with the whole dispute as of the event.
 */
export function openDispute(
  ctx: SandboxContext,
  pspReference: string,
  options: SandboxDisputeOptions = {},
): Readonly<SandboxDispute> {
  const payment = findPayment(ctx, pspReference);
  if (payment.status !== "succeeded") {
    throw rejected(
      `Payment ${pspReference} is ${payment.status}; only captured payments can be disputed.`,
      "charge_not_disputable",
      "pspReference",
    );
  }
  const left = payment.amount - payment.amountRefunded - disputedAmount(ctx, pspReference);
  const amount = options.amount ?? left;
  if (typeof amount !== "bigint" || amount <= 0n || amount > left) {
    throw rejected(`A dispute amount is in (0, ${left}] minor units.`, "parameter_invalid", "amount");
  }
  const now = ctx.now();
  const dispute: SandboxDispute = {
    disputeReference: newId("sbx_dp"),
    pspReference,
    amount,
    currency: payment.currency,
    reason: options.reason ?? "fraudulent",
    status: "needs_response",
    evidenceDueBy: new Date(now.getTime() + EVIDENCE_WINDOW_MS),
    withdrawn: { amount, fee: ctx.options.disputeFeePolicy(amount, payment.currency) },
    createdAt: now,
    updatedAt: now,
  };
  ctx.state.disputes.set(dispute.disputeReference, dispute);
  emit(ctx, "dispute.created", dispute);
  emit(ctx, "dispute.funds_withdrawn", dispute);
  return snapshot(dispute);
}

function open(dispute: SandboxDispute): void {
  if (dispute.status !== "needs_response" && dispute.status !== "under_review") {
    throw rejected(`Dispute ${dispute.disputeReference} is already ${dispute.status}.`, "dispute_closed");
  }
}

/** `sandbox.submitDisputeEvidence`: evidence reached the bank (`dispute.updated`, `under_review`). */
export function submitDisputeEvidence(
  ctx: SandboxContext,
  disputeReference: string,
): Readonly<SandboxDispute> {
  const dispute = findDispute(ctx, disputeReference);
  open(dispute);
  dispute.status = "under_review";
  dispute.updatedAt = ctx.now();
  emit(ctx, "dispute.updated", dispute);
  return snapshot(dispute);
}

/**
 * `sandbox.winDispute`: the platform won. The amount (and `feeReturned` of the fee, default none)
 * comes back: `dispute.funds_reinstated`, then `dispute.closed` with status `won`.
 */
export function winDispute(
  ctx: SandboxContext,
  disputeReference: string,
  options: SandboxWinOptions = {},
): Readonly<SandboxDispute> {
  const dispute = findDispute(ctx, disputeReference);
  open(dispute);
  const feeReturned = options.feeReturned ?? 0n;
  if (typeof feeReturned !== "bigint" || feeReturned < 0n || feeReturned > dispute.withdrawn.fee) {
    throw rejected(`feeReturned is in [0, ${dispute.withdrawn.fee}].`, "parameter_invalid", "feeReturned");
  }
  dispute.status = "won";
  dispute.updatedAt = ctx.now();
  dispute.reinstated = { amount: dispute.withdrawn.amount, feeReturned, at: dispute.updatedAt };
  emit(ctx, "dispute.funds_reinstated", dispute);
  emit(ctx, "dispute.closed", dispute);
  return snapshot(dispute);
}

/** `sandbox.loseDispute`: the buyer won; the PSP keeps the money and the fee (`dispute.closed`, `lost`). */
export function loseDispute(ctx: SandboxContext, disputeReference: string): Readonly<SandboxDispute> {
  const dispute = findDispute(ctx, disputeReference);
  open(dispute);
  dispute.status = "lost";
  dispute.updatedAt = ctx.now();
  emit(ctx, "dispute.closed", dispute);
  return snapshot(dispute);
}

/** `faults.disputeNextPayments`: opens a dispute on a payment that just succeeded, if one is asked for. */
export function disputeIfAsked(ctx: SandboxContext, pspReference: string): void {
  const asked = ctx.faults.takeDispute();
  if (asked) openDispute(ctx, pspReference, asked);
}

/** Every dispute, read-only, in opening order. */
export const disputeSnapshots = (ctx: SandboxContext): Readonly<SandboxDispute>[] =>
  [...ctx.state.disputes.values()].map(snapshot);
