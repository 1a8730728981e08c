import type { Deps } from "../../deps.js";
import type { PaymentOrder } from "../../domain/payment-order.js";
import type { Payout } from "../../domain/payout.js";
import type { Refund } from "../../domain/refund.js";
import { enqueueJob, PermanentJobError } from "../../jobs/job-runner.js";
import { accounts } from "../../ledger/accounts.js";
import { appendOutboxEvents } from "../../outbox/outbox.js";
import type { Job } from "../../ports/jobs.js";
import type { PayoutReversal } from "../../ports/psp.js";
import type { StoreTx } from "../../ports/store.js";
import { isPspError } from "../../runtime/psp-error.js";
import { withPspTimeout } from "../psp-timeout.js";
import { payoutEvent, payoutFailureMessage, reverseInTx } from "./payouts.js";

const CODE = "refund_clawback";

/** Job that takes a refunded order's seller share back from a payout that paid it (`reversePayout`). */
export const PAYOUT_CLAWBACK_JOB = "payout.clawback";

/** What one `payout.clawback` job takes back: `amount` of the payout (its currency), for `refundId`. */
export interface ClawbackPlan {
  readonly refundId: string;
  readonly paymentOrderId: string;
  readonly payoutId: string;
  /** Payout currency, minor units: what is asked back from the seller's payout account. */
  readonly amount: bigint;
  /** Source currency (the order's), minor units: the part of the refund's seller share it covers. */
  readonly sourceAmount: bigint;
}

/** Settlekit's id of the reversal of one clawback: the PSP keeps it, a lost answer is found by it. */
export const clawbackReversalId = (plan: Pick<ClawbackPlan, "refundId" | "payoutId">) =>
  `clawback:${plan.refundId}:${plan.payoutId}`;

const min = (a: bigint, b: bigint) => (a < b ? a : b);

/** Of a payout's source amount, what its reversals have not taken back yet (cumulative floor). */
const unreversedSource = (payout: Payout) =>
  payout.sourceAmount - (payout.sourceAmount * payout.amountReversed) / payout.amount;

/** The references of the order's journals that move the seller's available balance (not `skip`'s). */
async function orderJournals(tx: StoreTx, order: PaymentOrder, skip: string): Promise<string[]> {
  const refunds = (await tx.refunds.listByPayment(order.paymentId)).filter(
    (r) => r.paymentOrderId === order.id && r.id !== skip,
  );
  return [`fulfilled:${order.id}`, ...refunds.flatMap((r) => [`refund:${r.id}`, `refund-reversal:${r.id}`])];
}

/** Signed effect (credits − debits) of a journal on the seller's available balance in `currency`. */
async function availableEffect(tx: StoreTx, reference: string, account: string, currency: string) {
  const journal = await tx.ledger.getJournal(reference);
  return (journal?.postings ?? [])
    .filter((p) => p.account === account && p.currency === currency)
    .reduce((sum, p) => sum + (p.direction === "credit" ? p.amount : -p.amount), 0n);
}

/**
 * With `clawbacks: "reverse_payouts"`, in the refund's success transaction (after its journal):
 * plans taking the refund's seller share (`sellerShare`, debited from available) back from the
 * payouts that paid the order — one `payout.clawback` job per payout, each capped at what the
 * order gave that payout and at what is left unreversed of it. What is left to take back is the
 * order's share in paid payouts less what its earlier refunds already took (clawed back, or still
 * waiting on available to be netted). Whatever cannot be planned (the share is not paid out yet,
 * or in a payout still pending or failed) stays on available: the next payout nets it.
 */
export async function planClawbacks(
  deps: Deps,
  tx: StoreTx,
  order: PaymentOrder,
  refund: Refund,
  sellerShare: bigint,
): Promise<ClawbackPlan[]> {
  if (deps.payoutSettings.clawbacks !== "reverse_payouts" || sellerShare <= 0n) return [];
  const since = order.releasedAt ?? order.fulfilledAt;
  if (!since) return [];
  const available = accounts.sellerAvailable(order.sellerId);
  const references = new Set(await orderJournals(tx, order, refund.id));
  const paidLines = new Set<string>();
  const candidates: { payout: Payout; share: bigint }[] = [];
  // The order's share in payouts that paid (or are paying) its journals; a failed payout paid nothing.
  let left = 0n;
  let beforeId: string | undefined;
  // The seller's payouts newest first, back to the order's release: those may pay its journals.
  for (let more = true; more; ) {
    const page = await tx.payouts.listBySeller({
      sellerId: order.sellerId,
      limit: 50,
      sourceCurrency: order.currency,
      ...(beforeId ? { beforeId } : {}),
    });
    for (const payout of page) {
      if (payout.createdAt.getTime() < since.getTime()) {
        more = false;
        break;
      }
      const lines = (await tx.payouts.listLines(payout.id)).filter((l) => references.has(l.journalReference));
      for (const line of lines) paidLines.add(line.journalReference);
      const share = lines.reduce((sum, l) => sum + l.amount, 0n);
      if (payout.status !== "failed") left += share;
      if (share > 0n && (payout.status === "paid" || payout.status === "reversed"))
        candidates.push({ payout, share });
    }
    if (page.length < 50) more = false;
    beforeId = page.at(-1)?.id;
  }
  // Earlier refunds no payout has netted yet were clawed back already, or wait to be netted.
  for (const reference of references) {
    if (!paidLines.has(reference))
      left += min(0n, await availableEffect(tx, reference, available, order.currency));
  }
  let wanted = min(sellerShare, left);
  const plans: ClawbackPlan[] = [];
  for (const { payout, share } of candidates.reverse()) {
    if (wanted <= 0n) break;
    const sourceAmount = min(wanted, min(share, unreversedSource(payout)));
    // At the payout's locked rate (an FX payout): the largest running total whose source share
    // (what `reversalJournal` credits back, cumulative floors) does not pass what is wanted, so
    // taking back everything left of a payout returns it whole.
    const target = payout.sourceAmount - unreversedSource(payout) + sourceAmount;
    const total = min(payout.amount, ((target + 1n) * payout.amount - 1n) / payout.sourceAmount);
    const amount = total - payout.amountReversed;
    if (amount <= 0n) continue;
    wanted -= sourceAmount;
    const plan = { refundId: refund.id, paymentOrderId: order.id, payoutId: payout.id, amount, sourceAmount };
    plans.push(plan);
    await enqueueJob(
      tx,
      {
        type: PAYOUT_CLAWBACK_JOB,
        payload: {
          refundId: plan.refundId,
          paymentOrderId: plan.paymentOrderId,
          payoutId: plan.payoutId,
          amount: amount.toString(),
          sourceAmount: sourceAmount.toString(),
        },
        dedupeKey: `${PAYOUT_CLAWBACK_JOB}:${refund.id}:${payout.id}`,
        maxAttempts: deps.payoutSettings.maxAttempts,
      },
      deps,
    );
  }
  return plans;
}

/** The plan a `payout.clawback` job carries. */
export function clawbackPlanOf(job: Job): ClawbackPlan {
  const p = (job.payload ?? {}) as Record<string, unknown>;
  const text = (name: string) => {
    const value = p[name];
    if (typeof value !== "string" || value === "")
      throw new PermanentJobError(`job ${job.id} has no ${name}`);
    return value;
  };
  const amount = BigInt(text("amount"));
  return {
    refundId: text("refundId"),
    paymentOrderId: text("paymentOrderId"),
    payoutId: text("payoutId"),
    amount,
    sourceAmount: BigInt(text("sourceAmount")),
  };
}

/** Books what the PSP took back (its running total), as a refund clawback of the payout. */
async function book(deps: Deps, plan: ClawbackPlan, reversal: PayoutReversal): Promise<Payout | null> {
  return deps.store.transaction(async (tx) => {
    const payout = await tx.payouts.get(plan.payoutId, { forUpdate: true });
    if (!payout) return null;
    const booked = await reverseInTx(deps, tx, payout, reversal.amountReversed, "refund_clawback", {
      refundId: plan.refundId,
      paymentOrderId: plan.paymentOrderId,
      payoutReversalReference: reversal.reversalReference,
    });
    if (booked !== payout || payout.failureCode === CODE) return booked;
    // The PSP's webhook about this very reversal booked it first (as `reversed_by_psp`): say why.
    const labelled: Payout = {
      ...payout,
      failureCode: CODE,
      failureMessage: payoutFailureMessage(CODE),
      version: payout.version + 1,
      updatedAt: deps.clock.now(),
    };
    if (!(await tx.payouts.update(labelled))) return payout;
    return labelled;
  });
}

/**
 * The clawback falls back to netting: the refund's debit stays on the seller's available balance
 * and the next payout nets it. Operators see why (`payout.clawback_failed`, and the log).
 */
export async function fallBackToNetting(deps: Deps, plan: ClawbackPlan, reason: string): Promise<void> {
  await deps.store.transaction(async (tx) => {
    const payout = await tx.payouts.get(plan.payoutId);
    if (!payout) return;
    const event = payoutEvent("payout.clawback_failed", payout);
    await appendOutboxEvents(
      tx,
      [
        {
          ...event,
          payload: {
            ...event.payload,
            refund_id: plan.refundId,
            payment_order_id: plan.paymentOrderId,
            clawback_amount: plan.amount.toString(),
            clawback_source_amount: plan.sourceAmount.toString(),
            clawback_failure_reason: reason,
            fallback: "net_next_payout",
          },
        },
      ],
      deps,
    );
  });
  deps.logger.warn(
    `Clawback of refund ${plan.refundId} from payout ${plan.payoutId} was not reversed (${reason}): the next payout nets it.`,
    { refundId: plan.refundId, payoutId: plan.payoutId, reason },
  );
}

/**
 * The `payout.clawback` job: takes `plan.amount` back from the payout at the PSP, outside any
 * transaction, under the idempotency key `clawback:<refund>:<payout>:<amount>`, then books it
 * (`reverseInTx`: the seller's available balance gets its share back, an FX payout at its locked
 * rate).
 * - Recovery mark: every claim of the job is committed before its handler runs (and a replayed
 *   dead letter keeps its history), so an attempt after the first may follow a call whose answer
 *   was lost — it first asks the PSP for the reversal by its id (`retrievePayoutReversal`) and
 *   books what it finds instead of reversing again.
 * - A retryable or indeterminate failure throws: the job backs off, dead-letters after
 *   `payoutMaxAttempts` (then {@link fallBackToNetting}, `onJobDead`).
 * - A refusal (the PSP says no, nothing left of the payout, the payout not paid) falls back to
 *   netting at once.
 */
export async function runClawback(deps: Deps, job: Job): Promise<void> {
  const plan = clawbackPlanOf(job);
  const payout = await deps.store.transaction((tx) => tx.payouts.get(plan.payoutId));
  if (!payout) throw new PermanentJobError(`no payout ${plan.payoutId}`);
  if ((payout.status !== "paid" && payout.status !== "reversed") || !payout.pspPayoutReference)
    return fallBackToNetting(deps, plan, "payout_not_paid");
  const provider = deps.provider(payout.pspId);
  if (!provider.reversePayout) return fallBackToNetting(deps, plan, "payout_reversals_not_supported");
  const payoutReference = payout.pspPayoutReference;
  const reversalId = clawbackReversalId(plan);
  // An earlier attempt (this claim's predecessors, or the attempts before an operator replayed
  // the dead letter: its history stays) may have reached the PSP.
  const triedBefore = job.attempts > 1 || job.history.length > 0;
  if (triedBefore && provider.retrievePayoutReversal) {
    const found = await withPspTimeout(deps, payout.pspId, () =>
      provider.retrievePayoutReversal!({
        payoutReference,
        payoutId: payout.id,
        reversalId,
        currency: payout.currency,
      }),
    );
    if (found) {
      await book(deps, plan, found);
      return;
    }
  }
  const amount = min(plan.amount, payout.amount - payout.amountReversed);
  if (amount <= 0n) return fallBackToNetting(deps, plan, "nothing_left_to_reverse");
  let reversal: PayoutReversal;
  try {
    reversal = await withPspTimeout(deps, payout.pspId, () =>
      provider.reversePayout!({
        payoutReference,
        payoutId: payout.id,
        amount,
        currency: payout.currency,
        idempotencyKey: `${reversalId}:${amount}`,
        reversalId,
      }),
    );
  } catch (error) {
    if (isPspError(error, "fatal") || isPspError(error, "declined"))
      return fallBackToNetting(deps, plan, `psp_rejected:${error.pspCode ?? error.code.toLowerCase()}`);
    throw error;
  }
  await book(deps, plan, reversal);
}

/** A dead-lettered `payout.clawback`: the PSP never answered; netting takes over. */
export async function failClawbackForJob(deps: Deps, job: Job, error: unknown): Promise<void> {
  const plan = clawbackPlanOf(job);
  // If the last call may have reversed, the PSP's webhook or settlement report books it.
  const reason = isPspError(error, "indeterminate") ? "psp_outcome_unknown" : "psp_unavailable";
  await fallBackToNetting(deps, plan, reason);
}
