import type { PaymentOrder } from "../../domain/payment-order.js";
import type { Refund } from "../../domain/refund.js";
import { ErrorCodes, SettlekitError } from "../../errors.js";
import { accounts } from "../../ledger/accounts.js";
import type { Journal, Posting } from "../../ledger/types.js";
import type { StoreTx } from "../../ports/store.js";

/**
 * What a refund of a released order (its `fulfilled:<order id>` journal posted) takes back from the
 * platform's fees. The seller's share always comes from `seller:S:available` (a clawback: it may
 * go negative; the next payout nets it).
 * - `commission` — `proportional` (default): the platform gives back its commission in proportion
 *   to the refund; `keep`: the platform keeps all of it (the seller bears the whole refund).
 * - `logistics` — `keep` (default): the logistics fee is not refunded (the goods were shipped);
 *   `proportional`: in proportion, like the commission.
 * Proportional shares are exact over any sequence of partial refunds: after refunds of `P` of the
 * released base `B`, the fees given back are `floor(F · P / B)` (F: the fees refunded in
 * proportion, commission first), so a full refund gives back exactly the fees and no minor unit is
 * created or lost. Refunds of an order not released yet (unfulfilled or in its payout hold) come
 * from `seller:S:pending` whole: no fee was charged yet.
 */
export interface RefundFeePolicy {
  readonly commission?: "proportional" | "keep";
  readonly logistics?: "keep" | "proportional";
}

/** {@link RefundFeePolicy} with its defaults. */
export type ResolvedRefundFees = Required<RefundFeePolicy>;

/** Checks `refundFees` once (when the system is created). */
export function resolveRefundFees(policy: RefundFeePolicy | undefined): ResolvedRefundFees {
  const commission = policy?.commission ?? "proportional";
  const logistics = policy?.logistics ?? "keep";
  if (commission !== "proportional" && commission !== "keep") {
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      'refundFees.commission must be "proportional" or "keep".',
      { param: "refundFees.commission" },
    );
  }
  if (logistics !== "proportional" && logistics !== "keep") {
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      'refundFees.logistics must be "keep" or "proportional".',
      {
        param: "refundFees.logistics",
      },
    );
  }
  return { commission, logistics };
}

/** Signed net movement (credits − debits) of `account` in `journal`. */
const credited = (journal: Journal | null, account: string): bigint =>
  (journal?.postings ?? [])
    .filter((p) => p.account === account)
    .reduce((sum, p) => sum + (p.direction === "credit" ? p.amount : -p.amount), 0n);

const debited = (journal: Journal | null, account: string): bigint => -credited(journal, account);

/** How a refund of an order splits: the amounts each account gives back (debits; may be negative). */
export interface RefundSplit {
  /** `seller:S:pending` (order not released) or `seller:S:available`. */
  readonly sellerAccount: string;
  readonly seller: bigint;
  readonly commission: bigint;
  readonly logistics: bigint;
}

/**
 * The split of `refund` (about to succeed) over the seller and the platform's fees, read from the
 * order's journals (its `fulfilled:` journal, and the journals of its earlier refunds and their
 * reversals), so it is exact whatever happened before: the fees still kept on the order (`E`), the
 * fees already given back by standing refunds after release (`R`) and their amount (`P`) give the
 * fees charged (`F = E + R`) on the released base (`B` = what is left of the order + `P`). The
 * refund gives back `floor(F · (P + r) / B) − R`, commission and logistics each per the policy.
 */
export async function refundSplit(
  tx: StoreTx,
  policy: ResolvedRefundFees,
  order: PaymentOrder,
  refund: Refund,
): Promise<RefundSplit> {
  const pending = accounts.sellerPending(order.sellerId);
  const available = accounts.sellerAvailable(order.sellerId);
  const fulfilled = await tx.ledger.getJournal(`fulfilled:${order.id}`);
  // Released without a journal: refunded whole during its hold (a bounced refund brought money back).
  if (!fulfilled && order.releasedAt === undefined) {
    return { sellerAccount: pending, seller: refund.amount, commission: 0n, logistics: 0n };
  }
  const commissionAccount = accounts.platformCommission;
  const logisticsAccount = accounts.platformLogistics;
  let keptCommission = credited(fulfilled, commissionAccount);
  let keptLogistics = credited(fulfilled, logisticsAccount);
  let returnedCommission = 0n;
  let returnedLogistics = 0n;
  let refundedAfterRelease = 0n;
  const others = (await tx.refunds.listByPayment(order.paymentId)).filter(
    (r) => r.paymentOrderId === order.id && r.id !== refund.id,
  );
  for (const other of others) {
    const journal = await tx.ledger.getJournal(`refund:${other.id}`);
    if (!journal) continue;
    const reversal = await tx.ledger.getJournal(`refund-reversal:${other.id}`);
    keptCommission += credited(journal, commissionAccount) + credited(reversal, commissionAccount);
    keptLogistics += credited(journal, logisticsAccount) + credited(reversal, logisticsAccount);
    // A standing refund made after release (nothing from pending): counts toward `P`.
    if (other.status === "succeeded" && !reversal && debited(journal, pending) === 0n) {
      refundedAfterRelease += other.amount;
      returnedCommission += debited(journal, commissionAccount);
      returnedLogistics += debited(journal, logisticsAccount);
    }
  }
  const left = order.amount - order.refundedAmount;
  const base = left + refundedAfterRelease;
  const after = refundedAfterRelease + refund.amount;
  const charged = {
    commission: keptCommission + returnedCommission,
    logistics: keptLogistics + returnedLogistics,
  };
  const proportionalCommission = policy.commission === "proportional" ? charged.commission : 0n;
  const proportionalLogistics = policy.logistics === "proportional" ? charged.logistics : 0n;
  // Cumulative floors, the total first, so the fees given back never exceed the refund.
  const floorShare = (fees: bigint) => (base > 0n ? (fees * after) / base : fees);
  const totalTarget = floorShare(proportionalCommission + proportionalLogistics);
  const commissionTarget = floorShare(proportionalCommission);
  const logisticsTarget = totalTarget - commissionTarget;
  const commission = policy.commission === "proportional" ? commissionTarget - returnedCommission : 0n;
  const logistics = policy.logistics === "proportional" ? logisticsTarget - returnedLogistics : 0n;
  return {
    sellerAccount: available,
    seller: refund.amount - commission - logistics,
    commission,
    logistics,
  };
}

/** A refund's postings: each account of the split debited (credited when negative), the PSP credited. */
export function refundPostings(split: RefundSplit, refund: Refund, pspReceivable: string): Posting[] {
  const legs: [string, bigint][] = [
    [split.sellerAccount, split.seller],
    [accounts.platformCommission, split.commission],
    [accounts.platformLogistics, split.logistics],
  ];
  return [
    ...legs
      .filter(([, amount]) => amount !== 0n)
      .map(([account, amount]) => ({
        account,
        currency: refund.currency,
        direction: amount > 0n ? ("debit" as const) : ("credit" as const),
        amount: amount > 0n ? amount : -amount,
      })),
    { account: pspReceivable, currency: refund.currency, direction: "credit", amount: refund.amount },
  ];
}
