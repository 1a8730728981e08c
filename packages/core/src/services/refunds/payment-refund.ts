import type { Deps } from "../../deps.js";
import { ErrorCodes, SettlekitError } from "../../errors.js";
import type { CreateRefundResult } from "../../results.js";
import { isStorableText, parseInput, refundTextSchema } from "../payments/payment-input.js";
import type { RefundRequest } from "./refunds.js";
import { refundOrder, refundScope } from "./refunds.js";

/** A refund asked for on a payment (`POST /payments/:id/refunds`). */
export interface PaymentRefundRequest {
  /** The order to refund; may be left out when the payment has a single order. */
  readonly paymentOrderId?: string;
  /** Minor units; default: everything not yet refunded on that order. */
  readonly amount?: bigint;
  readonly reason?: string;
}

/**
 * Refunds one order of a payment, idempotently (see `refundPaymentOrder`). The order must belong
 * to the payment, with `buyerId` the payment to the buyer, and with `sellerId` the order to the
 * seller: anything else is NOT_FOUND, so ids cannot be probed. `replayed` is true when the key had already finished this same request
 * (the answer is the stored one).
 */
export async function refundPayment(
  deps: Deps,
  paymentId: string,
  input: PaymentRefundRequest,
  options: { idempotencyKey: string; buyerId?: string; sellerId?: string; scope?: string },
): Promise<CreateRefundResult> {
  parseInput(refundTextSchema, { paymentOrderId: input.paymentOrderId, reason: input.reason });
  if (typeof paymentId !== "string" || !isStorableText(paymentId)) {
    throw new SettlekitError(ErrorCodes.NOT_FOUND, "No such payment.", { param: "id" });
  }
  const scope = options.scope ?? refundScope(options);
  const orders = await deps.store.transaction(
    async (tx) => {
      const payment = await tx.payments.get(paymentId);
      if (!payment || (options.buyerId !== undefined && payment.buyerId !== options.buyerId)) {
        throw new SettlekitError(ErrorCodes.NOT_FOUND, `No payment ${paymentId}.`, { param: "id" });
      }
      return tx.paymentOrders.listByPayment(paymentId);
    },
    { readOnly: true },
  );
  const order =
    input.paymentOrderId === undefined && orders.length === 1
      ? orders[0]
      : orders.find(
          (o) =>
            o.id === input.paymentOrderId &&
            (options.sellerId === undefined || o.sellerId === options.sellerId),
        );
  if (!order) {
    throw input.paymentOrderId === undefined
      ? new SettlekitError(
          ErrorCodes.VALIDATION_FAILED,
          "This payment has several orders: say which one to refund.",
          { param: "payment_order_id" },
        )
      : new SettlekitError(
          ErrorCodes.NOT_FOUND,
          `No payment order ${input.paymentOrderId} in ${paymentId}.`,
          {
            param: "payment_order_id",
          },
        );
  }
  const request: RefundRequest = {
    paymentOrderId: order.id,
    ...(input.amount !== undefined ? { amount: input.amount } : {}),
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
  };
  // Whether the answer is a replay is decided with the key, in the refund's own transaction.
  return refundOrder(deps, request, { ...options, scope });
}
