import type { Deps } from "../../deps.js";
import type { PaymentOrder } from "../../domain/payment-order.js";
import { transitionPaymentOrder } from "../../domain/payment-order.js";
import { ErrorCodes, SettlekitError } from "../../errors.js";
import { accounts } from "../../ledger/accounts.js";
import { postJournal } from "../../ledger/post-journal.js";
import type { JournalInput } from "../../ledger/types.js";
import { appendOutboxEvents } from "../../outbox/outbox.js";
import { paymentOrderView } from "../../views/payment-order.js";

export interface FulfilRequest {
  readonly paymentOrderId: string;
}

/**
 * The host says a seller shipped or delivered an order: the seller's share moves from
 * `seller:S:pending` to `seller:S:available`, less the platform's commission and logistics fee
 * (the `fees` policy), in one transaction with the order's move to `fulfilled` and an
 * `order.fulfilled` outbox event. Idempotent: fulfilling a fulfilled (or paid-out) order changes
 * nothing. Only a `succeeded` order that is not fully refunded can be fulfilled; with `sellerId`,
 * another seller's order is NOT_FOUND.
 *
 * Fees are charged on what is left after earlier refunds, so the base must be known: while a
 * refund of the order is still `pending` at the PSP, fulfilment is refused
 * (`INVALID_STATE_TRANSITION` with `details.reason = "refund_pending"`, nothing changes) — the
 * refund may still succeed (the money leaves) or fail (it stays), and either way the seller's
 * pending balance must hold exactly the base this journal moves. Retry once the refund settled.
 * The refund's reservation and this check both lock the order row, so they cannot interleave.
 */
export async function fulfilPaymentOrder(
  deps: Deps,
  request: FulfilRequest,
  options: { sellerId?: string } = {},
): Promise<PaymentOrder> {
  return deps.store.transaction(async (tx) => {
    const order = await tx.paymentOrders.get(request.paymentOrderId, { forUpdate: true });
    if (!order || (options.sellerId !== undefined && order.sellerId !== options.sellerId)) {
      throw new SettlekitError(ErrorCodes.NOT_FOUND, `No payment order ${request.paymentOrderId}.`, {
        param: "payment_order_id",
      });
    }
    if (order.status === "fulfilled" || order.status === "paid_out") return order;
    const pendingRefund = (await tx.refunds.listByPayment(order.paymentId)).find(
      (r) => r.paymentOrderId === order.id && r.status === "pending",
    );
    if (pendingRefund) {
      throw new SettlekitError(
        ErrorCodes.INVALID_STATE_TRANSITION,
        `Payment order ${order.id} has refund ${pendingRefund.id} pending at the PSP; fulfil it once the refund settled.`,
        {
          param: "payment_order_id",
          details: { reason: "refund_pending", refund_id: pendingRefund.id },
        },
      );
    }
    const now = deps.clock.now();
    const fulfilled: PaymentOrder = {
      ...transitionPaymentOrder(order, "fulfill"),
      fulfilledAt: now,
      version: order.version + 1,
      updatedAt: now,
    };
    const base = order.amount - order.refundedAmount;
    const { commission, logistics } = deps.fees(order, base);
    if (commission < 0n || logistics < 0n || commission + logistics > base) {
      throw new SettlekitError(
        ErrorCodes.VALIDATION_FAILED,
        `The fee policy asked for ${commission} + ${logistics} of ${base} ${order.currency}.`,
        { param: "fees" },
      );
    }
    const net = base - commission - logistics;
    const credits: [string, bigint][] = [
      [accounts.sellerAvailable(order.sellerId), net],
      [accounts.platformCommission, commission],
      [accounts.platformLogistics, logistics],
    ];
    const journal: JournalInput = {
      reference: `fulfilled:${order.id}`,
      kind: "fulfilled",
      metadata: { paymentId: order.paymentId, paymentOrderId: order.id, sellerId: order.sellerId },
      postings: [
        {
          account: accounts.sellerPending(order.sellerId),
          currency: order.currency,
          direction: "debit",
          amount: base,
        },
        ...credits
          .filter(([, amount]) => amount > 0n)
          .map(([account, amount]) => ({
            account,
            currency: order.currency,
            direction: "credit" as const,
            amount,
          })),
      ],
    };
    if (!(await tx.paymentOrders.update(fulfilled))) {
      throw new SettlekitError(
        ErrorCodes.STORE_CONFLICT,
        `Payment order ${order.id} changed concurrently; retry.`,
      );
    }
    await postJournal(tx, journal, deps);
    await appendOutboxEvents(
      tx,
      [
        {
          type: "order.fulfilled",
          aggregateType: "payment",
          aggregateId: order.paymentId,
          payload: {
            schema_version: 1,
            ...paymentOrderView(fulfilled),
            commission: commission.toString(),
            logistics: logistics.toString(),
            net: net.toString(),
          },
        },
      ],
      deps,
    );
    return fulfilled;
  });
}
