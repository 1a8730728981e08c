import type { Deps } from "../../deps.js";
import { accounts } from "../../ledger/accounts.js";
import type { CurrencyCode } from "../../money/currency.js";
import type { PendingRelease, SellerWallet, WalletBalance } from "../../results.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * A seller's wallet, per currency, projected from the ledger: `pending` (paid by buyers, not yet
 * available), `available` (fulfilled, fees deducted, not yet paid out; negative after a clawback
 * or while a dispute holds money), `held` (the seller's share of open disputes, withdrawn by the
 * PSP: back to `available` if won, gone if lost), `reserved` (in a payout the PSP has not paid
 * yet, in the payout's currency) and `paidOut` (what the seller's paid payouts sent, less what the
 * PSP took back). `pendingReleases` lists the fulfilled orders in their payout hold (part of
 * `pending`) with their release dates. Liabilities are credit-normal, so each balance is `credits − debits` of its
 * account; `paidOut` sums the payouts whose `reserved → psp:X:payouts` journals are posted.
 */
export async function sellerWallet(deps: Deps, sellerId: string): Promise<SellerWallet> {
  const kinds = {
    [accounts.sellerPending(sellerId)]: "pending",
    [accounts.sellerAvailable(sellerId)]: "available",
    [accounts.sellerHeld(sellerId)]: "held",
    [accounts.sellerReserved(sellerId)]: "reserved",
  } as const;
  const { rows, paidOut, recent, held } = await deps.store.transaction(
    async (tx) => ({
      rows: await tx.ledger.listBalances({ accountPrefix: `seller:${sellerId}:` }),
      paidOut: await tx.payouts.sumPaidOut(sellerId),
      recent: await tx.payouts.listBySeller({ sellerId, limit: 20 }),
      held: await tx.paymentOrders.listHeldBySeller({ sellerId, limit: 500 }),
    }),
    { readOnly: true },
  );
  const byCurrency = new Map<string, Mutable<Omit<WalletBalance, "currency">>>();
  const entry = (currency: string) => {
    let found = byCurrency.get(currency);
    if (!found) {
      found = { pending: 0n, pendingReleases: [], available: 0n, held: 0n, reserved: 0n, paidOut: 0n };
      byCurrency.set(currency, found);
    }
    return found;
  };
  for (const row of rows) {
    const kind = Object.hasOwn(kinds, row.account) ? kinds[row.account] : undefined;
    if (kind) entry(row.currency)[kind] -= row.balance;
  }
  for (const { currency, amount } of paidOut) entry(currency).paidOut += amount;
  // The newest payout of each source currency (newest first): a failure or reversal is news.
  const notices = new Map<string, NonNullable<WalletBalance["payoutNotice"]>>();
  const seen = new Set<string>();
  for (const payout of recent) {
    if (seen.has(payout.sourceCurrency)) continue;
    seen.add(payout.sourceCurrency);
    if ((payout.status === "failed" || payout.status === "reversed") && payout.failureCode) {
      notices.set(payout.sourceCurrency, {
        payoutId: payout.id,
        code: payout.failureCode,
        message: payout.failureMessage ?? payout.failureCode,
      });
    }
  }
  // Orders in their payout hold: the part of `pending` that has a release date.
  for (const order of held) {
    const amount = order.amount - order.refundedAmount;
    if (amount <= 0n) continue;
    const releases = entry(order.currency).pendingReleases as PendingRelease[];
    releases.push({ paymentOrderId: order.id, amount, availableAt: order.availableAt ?? null });
  }
  return {
    sellerId,
    balances: [...byCurrency]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([currency, b]) => {
        const notice = notices.get(currency);
        return { currency: currency as CurrencyCode, ...b, ...(notice ? { payoutNotice: notice } : {}) };
      }),
  };
}
