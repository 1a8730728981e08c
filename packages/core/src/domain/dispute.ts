import { allocate } from "../money/allocate.js";
import type { CurrencyCode } from "../money/currency.js";
import type { DisputeStatus } from "./dispute-status.js";
import type { PaymentOrder } from "./payment-order.js";

/** One payment order's share of a dispute (see {@link allocateDispute}). */
export interface DisputeAllocation {
  readonly paymentOrderId: string;
  readonly sellerId: string;
  /** This order's share of the disputed amount, minor units, ≥ 0. */
  readonly amount: bigint;
  /** This order's share of the PSP's dispute fee, minor units, ≥ 0 (0 until the fee is known). */
  readonly fee: bigint;
}

/**
 * A dispute (chargeback) the PSP reported on a payment. The disputed money is held from the
 * sellers of the payment's orders (their `seller:<id>:held` accounts) until the dispute is won
 * (back to their available balance) or lost (written off).
 */
export interface Dispute {
  /** Settlekit's id (`dp_…`). */
  id: string;
  /** The payment disputed. */
  paymentId: string;
  /** The PSP that reported it. */
  pspId: string;
  /** The PSP's id of the dispute (Stripe `du_…`/`dp_…`); unique per PSP. */
  pspDisputeReference: string;
  /** The payment attempt disputed, as `createHostedPayment` returned it. */
  pspReference: string;
  /** Disputed amount, minor units of `currency` (the payment's); positive. */
  amount: bigint;
  currency: CurrencyCode;
  /** What the PSP withdrew of the amount (usually all of it); 0 until it did. */
  amountWithdrawn: bigint;
  /** The PSP's dispute fee, withdrawn with the amount; 0 until the PSP says. */
  fee: bigint;
  /** What the PSP gave back of the amount when it reinstated the funds; 0 until it did. */
  amountReinstated: bigint;
  /** The part of `fee` the PSP gave back when it reinstated the funds (Stripe does in some cases). */
  feeReturned: bigint;
  /**
   * Who bears the fee, fixed when the dispute is first stored (the `disputeFees` option then):
   * `seller` — held and written off with the seller's share; `platform` — `platform:dispute_fees`.
   */
  feeBearer: "seller" | "platform";
  /** The buyer's bank's reason, in the PSP's words (`fraudulent`, `product_not_received`…). */
  reason?: string | undefined;
  status: DisputeStatus;
  /** When the evidence must reach the PSP, when it says. */
  evidenceDueBy?: Date | undefined;
  /**
   * How the withdrawn amount and fee are split over the payment's orders ({@link allocateDispute});
   * the disputed amount's split until the PSP withdraws, then fixed with the withdrawal.
   */
  allocations: DisputeAllocation[];
  /** When the PSP withdrew the money (the `withdrawn` journal was posted), if it did. */
  fundsWithdrawnAt?: Date | undefined;
  /** When the PSP gave it back (the `reinstated` journal was posted), if it did. */
  fundsReinstatedAt?: Date | undefined;
  /** Optimistic-locking counter, as on payments. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * Splits a dispute's `amount` and `fee` over a payment's orders, in the orders' order:
 * - weights: what each order still holds of the capture (`amount − refundedAmount`); when that
 *   is zero for every order (a payment disputed after it was refunded), the order amounts;
 * - each of `amount` and `fee` separately by largest remainder ({@link allocate}): parts add up to
 *   the whole exactly, each within one minor unit of its exact share, leftover units going to the
 *   largest remainders, ties to the earlier order.
 * Deterministic: the same orders and amounts always give the same split (journals are posted
 * idempotently by reference from it).
 */
export function allocateDispute(
  orders: readonly Pick<PaymentOrder, "id" | "sellerId" | "amount" | "refundedAmount" | "currency">[],
  amount: bigint,
  fee: bigint,
): DisputeAllocation[] {
  const [first] = orders;
  if (!first) return [];
  const held = orders.map((o) => (o.amount > o.refundedAmount ? o.amount - o.refundedAmount : 0n));
  const weights = held.some((w) => w > 0n) ? held : orders.map((o) => o.amount);
  const split = (total: bigint) =>
    total === 0n
      ? orders.map(() => 0n)
      : allocate({ amount: total, currency: first.currency }, weights).map((m) => m.amount);
  const amounts = split(amount);
  const fees = split(fee);
  return orders.map((o, i) => ({
    paymentOrderId: o.id,
    sellerId: o.sellerId,
    amount: amounts[i]!,
    fee: fees[i]!,
  }));
}
