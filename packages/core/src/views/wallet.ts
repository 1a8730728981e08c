import type { JsonObject } from "../ports/json.js";
import type { SellerWallet } from "../results.js";

/** The JSON of a seller's wallet (`object: "wallet"`): one entry per currency, money as decimal strings. */
export function walletView(wallet: SellerWallet): JsonObject {
  return {
    object: "wallet",
    seller_id: wallet.sellerId,
    balances: wallet.balances.map((b) => ({
      currency: b.currency,
      pending: b.pending.toString(),
      pending_releases: b.pendingReleases.map((r) => ({
        payment_order_id: r.paymentOrderId,
        amount: r.amount.toString(),
        available_at: r.availableAt?.toISOString() ?? null,
      })),
      available: b.available.toString(),
      held: b.held.toString(),
      reserved: b.reserved.toString(),
      paid_out: b.paidOut.toString(),
      ...(b.payoutNotice
        ? {
            payout_notice: {
              payout_id: b.payoutNotice.payoutId,
              code: b.payoutNotice.code,
              message: b.payoutNotice.message,
            },
          }
        : {}),
    })),
  };
}
