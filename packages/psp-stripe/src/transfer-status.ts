import type { PspPayoutStatus } from "@settlekit/core";
import type Stripe from "stripe";
import { fromStripeAmount, isoCurrency } from "./currency.js";

/**
 * A Connect transfer's state in the port's words. Stripe's `reversed` is true only once the whole
 * transfer is reversed; a partial reversal (also announced by `transfer.reversed`) shows only in
 * `amount_reversed`, so that is what decides `partially_reversed`.
 */
export function transferStatus(transfer: Stripe.Transfer): {
  status: PspPayoutStatus;
  amountReversed?: bigint;
} {
  const reversed = transfer.amount_reversed ?? 0;
  if (!transfer.reversed && reversed <= 0) return { status: "paid" };
  const amountReversed = fromStripeAmount(
    transfer.reversed ? Math.max(reversed, transfer.amount) : reversed,
    isoCurrency(transfer.currency),
  );
  return { status: transfer.reversed ? "reversed" : "partially_reversed", amountReversed };
}
