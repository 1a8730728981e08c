import type { Dispute, DisputeAllocation } from "../domain/dispute.js";
import { allocate } from "../money/allocate.js";
import { accounts } from "./accounts.js";
import type { JournalInput, Posting } from "./types.js";

/**
 * Who bears the PSP's dispute fee: the seller (default; it is held and written off with the
 * disputed amount) or the platform (`platform:dispute_fees`).
 */
export type DisputeFeeBearer = Dispute["feeBearer"];

/** What the dispute journals read of a {@link Dispute}, plus who bears its fee. */
export type DisputeMoney = Pick<
  Dispute,
  | "id"
  | "paymentId"
  | "pspId"
  | "currency"
  | "allocations"
  | "amountWithdrawn"
  | "fee"
  | "amountReinstated"
  | "feeReturned"
  | "feeBearer"
>;

type Leg = readonly [account: string, direction: "debit" | "credit", amount: bigint];

function journal(d: DisputeMoney, step: string, kind: string, legs: readonly Leg[]): JournalInput {
  const postings: Posting[] = legs
    .filter(([, , amount]) => amount > 0n)
    .map(([account, direction, amount]) => ({ account, currency: d.currency, direction, amount }));
  return {
    reference: `dispute:${d.id}:${step}`,
    kind,
    metadata: { paymentId: d.paymentId, disputeId: d.id, psp: d.pspId },
    postings,
  };
}

/** What of a seller's share is theirs to hold: the amount, plus the fee when sellers bear it. */
const sellerPart = (d: DisputeMoney, a: { amount: bigint; fee: bigint }): bigint =>
  a.amount + (d.feeBearer === "seller" ? a.fee : 0n);

/**
 * The money the PSP withdrew, per seller: the PSP owes the platform `amount + fee` less
 * (`psp:X:receivable` credited) and holds it for the dispute (`psp:X:disputes` debited); each
 * seller's share of it moves from `available` (negative if it must: a clawback, also before
 * fulfilment — `pending` stays what fulfilment moves) to `held`. A fee the platform bears is its
 * expense (`platform:dispute_fees`) instead. Reference `dispute:<id>:withdrawn`.
 */
export function disputeWithdrawnJournal(d: DisputeMoney): JournalInput {
  const sellerFee = d.feeBearer === "seller" ? d.fee : 0n;
  return journal(d, "withdrawn", "dispute_funds_withdrawn", [
    [accounts.pspReceivable(d.pspId), "credit", d.amountWithdrawn + d.fee],
    [accounts.pspDisputes(d.pspId), "debit", d.amountWithdrawn + sellerFee],
    [accounts.platformDisputeFees, "debit", d.fee - sellerFee],
    ...d.allocations.flatMap((a): Leg[] => [
      [accounts.sellerAvailable(a.sellerId), "debit", sellerPart(d, a)],
      [accounts.sellerHeld(a.sellerId), "credit", sellerPart(d, a)],
    ]),
  ]);
}

/**
 * The reinstated amount and returned fee split over the orders, weighted by what each had
 * withdrawn (largest remainder; never more than an order's withdrawn share while the PSP gives
 * back no more than it took).
 */
export function reinstatedAllocations(d: DisputeMoney): DisputeAllocation[] {
  const split = (total: bigint, weights: bigint[]): bigint[] => {
    if (total === 0n || weights.every((w) => w === 0n)) return weights.map(() => 0n);
    return allocate({ amount: total, currency: d.currency }, weights).map((m) => m.amount);
  };
  const amountWeights = d.allocations.map((a) => a.amount);
  const feeWeights = d.allocations.map((a) => a.fee);
  const amounts = split(d.amountReinstated, amountWeights);
  const fees = split(d.feeReturned, feeWeights.some((w) => w > 0n) ? feeWeights : amountWeights);
  return d.allocations.map((a, i) => ({ ...a, amount: amounts[i]!, fee: fees[i]! }));
}

/**
 * The money the PSP gave back: the reverse of the withdrawal for what came back
 * (`psp:X:disputes` → `psp:X:receivable`; each seller's share `held` → `available`; a returned fee
 * the platform bore leaves `platform:dispute_fees`). Reference `dispute:<id>:reinstated`.
 */
export function disputeReinstatedJournal(d: DisputeMoney): JournalInput {
  const back = reinstatedAllocations(d);
  const sellerFee = d.feeBearer === "seller" ? d.feeReturned : 0n;
  return journal(d, "reinstated", "dispute_funds_reinstated", [
    [accounts.pspReceivable(d.pspId), "debit", d.amountReinstated + d.feeReturned],
    [accounts.pspDisputes(d.pspId), "credit", d.amountReinstated + sellerFee],
    [accounts.platformDisputeFees, "credit", d.feeReturned - sellerFee],
    ...back.flatMap((a): Leg[] => [
      [accounts.sellerHeld(a.sellerId), "debit", sellerPart(d, a)],
      [accounts.sellerAvailable(a.sellerId), "credit", sellerPart(d, a)],
    ]),
  ]);
}

/**
 * The end of a dispute: what is still held is written off to the sellers (`held` debited,
 * `psp:X:disputes` credited: the PSP kept it). Lost: the whole withdrawn share. Won: what the PSP
 * did not give back (usually the fee, when Stripe keeps it). `null` when nothing is left held.
 * Reference `dispute:<id>:lost` / `dispute:<id>:won`.
 */
export function disputeClosedJournal(d: DisputeMoney, outcome: "won" | "lost"): JournalInput | null {
  const back = reinstatedAllocations(d);
  const left = d.allocations.map((a, i) => ({
    sellerId: a.sellerId,
    amount: sellerPart(d, a) - sellerPart(d, back[i]!),
  }));
  const total = left.reduce((sum, l) => sum + l.amount, 0n);
  if (total <= 0n) return null;
  return journal(d, outcome, outcome === "won" ? "dispute_won" : "dispute_lost", [
    ...left.map((l): Leg => [accounts.sellerHeld(l.sellerId), "debit", l.amount]),
    [accounts.pspDisputes(d.pspId), "credit", total],
  ]);
}

/**
 * The end of a dispute of a capture no payment order owns (no seller to hold it from): what the
 * PSP kept of the withdrawn amount leaves `psp:X:disputes`. Up to `owed` — what the platform still
 * owed the buyer for that capture (not refunded, nor being refunded) — the chargeback paid the
 * buyer that debt (`platform:captures_to_return` debited); the rest is the platform's loss
 * (`platform:dispute_losses`: the buyer had the refund too). The fee was the platform's from the
 * withdrawal on. `null` when nothing is left held. Reference `dispute:<id>:lost` / `:won`.
 */
export function unownedDisputeClosedJournal(
  d: DisputeMoney,
  outcome: "won" | "lost",
  owed: bigint,
): JournalInput | null {
  const left = d.amountWithdrawn - d.amountReinstated;
  if (left <= 0n) return null;
  const settled = owed < 0n ? 0n : owed > left ? left : owed;
  return journal(d, outcome, outcome === "won" ? "dispute_won" : "dispute_lost", [
    [accounts.platformCapturesToReturn, "debit", settled],
    [accounts.platformDisputeLosses, "debit", left - settled],
    [accounts.pspDisputes(d.pspId), "credit", left],
  ]);
}
