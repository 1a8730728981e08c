import type { Deps } from "../../deps.js";
import type { Payment } from "../../domain/payment.js";
import type { PaymentOrder } from "../../domain/payment-order.js";
import { paymentMachine } from "../../domain/payment-status.js";
import type { Refund } from "../../domain/refund.js";
import { ErrorCodes, SettlekitError } from "../../errors.js";
import { accounts } from "../../ledger/accounts.js";
import { postJournal } from "../../ledger/post-journal.js";
import type { Posting } from "../../ledger/types.js";
import type { StoreTx } from "../../ports/store.js";
import { appendRefundFailed, lockRefundTargets, withRefunded } from "./refunds.js";

/** The failure reason of a refund the PSP reported failed after it had succeeded. */
export const FAILED_AFTER_SUCCESS = "failed_after_success";

/**
 * Where the money of a reversed refund goes back to, and which fees it owes on the way (signed
 * credits: a negative one is a debit).
 * - The refund was taken from `available` (after the order's release): exactly what its journal
 *   posted is reversed — the seller's share back to `available`, the fees it gave back
 *   (`refundFees`) to `platform:commission` / `platform:logistics`.
 * - It was taken from `pending` and the order is still not released (unfulfilled, or in its payout
 *   hold): straight back to `pending`; the release will charge fees on it later.
 * - It was taken from `pending` and the order was released meanwhile (on a base without this
 *   money): back to `available`, less the extra commission and logistics the fee policy asks on
 *   the fuller base — the ledger ends as if the refund had never been made.
 */
async function reversalCredits(
  deps: Deps,
  tx: StoreTx,
  order: PaymentOrder,
  refund: Refund,
): Promise<[string, bigint][]> {
  const original = await tx.ledger.getJournal(`refund:${refund.id}`);
  const pending = accounts.sellerPending(order.sellerId);
  const available = accounts.sellerAvailable(order.sellerId);
  const fulfilled = await tx.ledger.getJournal(`fulfilled:${order.id}`);
  const receivable = (p: Posting) => p.account.startsWith("psp:") && p.account.endsWith(":receivable");
  // Released: the hold ended (a release of an order refunded whole during its hold posts no journal).
  const released = fulfilled !== null || order.releasedAt !== undefined;
  const fromPending = original
    ? original.postings.some((p) => p.account === pending && p.direction === "debit")
    : !released;
  if (!fromPending) {
    if (!original) return [[available, refund.amount]];
    return original.postings
      .filter((p) => !receivable(p))
      .map((p): [string, bigint] => [p.account, p.direction === "debit" ? p.amount : -p.amount]);
  }
  if (!released) return [[pending, refund.amount]];
  const oldBase =
    fulfilled?.postings.find((p) => p.account === pending && p.direction === "debit")?.amount ?? 0n;
  const fees = deps.fees;
  const before = oldBase > 0n ? fees(order, oldBase) : { commission: 0n, logistics: 0n };
  const after = fees(order, oldBase + refund.amount);
  const commission = after.commission - before.commission;
  const logistics = after.logistics - before.logistics;
  // A fee policy that is not monotone in its base cannot be topped up: the seller gets it all.
  if (commission < 0n || logistics < 0n || commission + logistics > refund.amount) {
    return [[available, refund.amount]];
  }
  return [
    [available, refund.amount - commission - logistics],
    [accounts.platformCommission, commission],
    [accounts.platformLogistics, logistics],
  ];
}

/**
 * A refund the PSP reported `succeeded` and later `failed` (bank refunds do): the buyer did not
 * get the money back, so it is the order's again. In one transaction: the refund becomes
 * `failed` (`failure_reason` = the PSP's reason or `failed_after_success`), the order's and the
 * payment's refunded amounts and refund statuses go back, a new journal
 * `refund-reversal:<refund id>` undoes the refund's journal (journals are immutable; the same
 * reference twice posts once) and a `refund.failed` outbox event tells the operator.
 * Idempotent: a refund that is not `succeeded` is returned unchanged.
 */
export async function reverseRefund(
  deps: Deps,
  tx: StoreTx,
  refund: Refund,
  pspReason: string | undefined,
): Promise<Refund> {
  if (refund.status !== "succeeded") return refund;
  const now = deps.clock.now();
  const { payment, order } = await lockRefundTargets(tx, refund);
  const updatedOrder = withRefunded(order, -refund.amount, now);
  const paymentRefunded = payment.refundedAmount - refund.amount;
  const updatedPayment: Payment = {
    ...payment,
    refundedAmount: paymentRefunded,
    status:
      paymentRefunded === 0n
        ? paymentMachine.transition(payment.status, "reverse_refunds")
        : payment.status === "refunded"
          ? paymentMachine.transition(payment.status, "reverse_refund")
          : payment.status,
    version: payment.version + 1,
    updatedAt: now,
  };
  const failed: Refund = {
    ...refund,
    status: "failed",
    failureReason: pspReason ? `${FAILED_AFTER_SUCCESS}:${pspReason}` : FAILED_AFTER_SUCCESS,
    version: refund.version + 1,
    updatedAt: now,
  };
  const credits = await reversalCredits(deps, tx, order, refund);
  if (
    !(await tx.paymentOrders.update(updatedOrder)) ||
    !(await tx.payments.update(updatedPayment)) ||
    !(await tx.refunds.update(failed))
  ) {
    throw new SettlekitError(ErrorCodes.STORE_CONFLICT, `Refund ${refund.id} raced another change; retry.`);
  }
  const postings: Posting[] = [
    {
      account: accounts.pspReceivable(payment.pspId),
      currency: refund.currency,
      direction: "debit",
      amount: refund.amount,
    },
    ...credits
      .filter(([, amount]) => amount !== 0n)
      .map(([account, amount]) => ({
        account,
        currency: refund.currency,
        direction: amount > 0n ? ("credit" as const) : ("debit" as const),
        amount: amount > 0n ? amount : -amount,
      })),
  ];
  await postJournal(
    tx,
    {
      reference: `refund-reversal:${refund.id}`,
      kind: "refund_reversal",
      metadata: { paymentId: payment.id, paymentOrderId: order.id, refundId: refund.id },
      postings,
    },
    deps,
  );
  await appendRefundFailed(deps, tx, failed, true);
  return failed;
}
