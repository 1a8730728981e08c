import type { Deps } from "../../deps.js";
import { accounts } from "../../ledger/accounts.js";
import type { Journal } from "../../ledger/types.js";
import type { CurrencyCode } from "../../money/currency.js";
import type { Page, WalletTransaction, WalletTransactionType } from "../../results.js";
import { PAYOUT_JOURNAL_KINDS } from "./payout-journals.js";

type Bucket = "pending" | "available" | "reserved" | "held";

/** Which transaction type a journal is, for the seller reading their wallet history. */
function typeOf(journal: Journal, deltas: Record<Bucket, bigint>): WalletTransactionType {
  switch (journal.kind) {
    case "payment_succeeded":
    case "payment_review_approved":
      return "sale";
    case "fulfilled":
      return "fee";
    case "refund":
    case "external_refund":
    case "refund_reversal":
      // A refund after the money became available is a clawback.
      return deltas.available !== 0n && journal.kind !== "refund_reversal" ? "clawback" : "refund";
    case PAYOUT_JOURNAL_KINDS.reserved:
    case PAYOUT_JOURNAL_KINDS.paid:
      return "payout";
    case PAYOUT_JOURNAL_KINDS.released:
      return "payout_released";
    case PAYOUT_JOURNAL_KINDS.reversed:
      return "reversal";
    default:
      return journal.kind.startsWith("dispute") ? "dispute" : "adjustment";
  }
}

/**
 * A seller's wallet history: every journal that moved one of the seller's balances, oldest first
 * (posting order), one entry per journal and currency, with the signed change of each balance.
 * `startingAfter` (a journal id, the previous page's `nextCursor`) pages on.
 */
export async function listSellerTransactions(
  deps: Deps,
  sellerId: string,
  query: { limit?: number; startingAfter?: string; currency?: CurrencyCode } = {},
): Promise<Page<WalletTransaction>> {
  const size = Math.min(Math.max(Math.trunc(query.limit ?? 50), 1), 100);
  const buckets: Record<string, Bucket> = {
    [accounts.sellerPending(sellerId)]: "pending",
    [accounts.sellerAvailable(sellerId)]: "available",
    [accounts.sellerReserved(sellerId)]: "reserved",
    [accounts.sellerHeld(sellerId)]: "held",
  };
  const data: WalletTransaction[] = [];
  let cursor = query.startingAfter;
  let hasMore = false;
  let lastJournal: string | undefined;
  // Fetch journals until a page of entries is full (a journal in other currencies yields none).
  while (data.length <= size) {
    const journals = await deps.store.transaction(
      (tx) =>
        tx.ledger.listJournals({
          account: accounts.sellerAvailable(sellerId),
          accounts: Object.keys(buckets),
          limit: size + 1,
          ...(cursor ? { afterId: cursor } : {}),
        }),
      { readOnly: true },
    );
    for (const journal of journals) {
      const byCurrency = new Map<string, Record<Bucket, bigint>>();
      for (const p of journal.postings) {
        const bucket = Object.hasOwn(buckets, p.account) ? buckets[p.account] : undefined;
        if (!bucket || (query.currency && p.currency !== query.currency)) continue;
        const d = byCurrency.get(p.currency) ?? { pending: 0n, available: 0n, reserved: 0n, held: 0n };
        d[bucket] += p.direction === "credit" ? p.amount : -p.amount;
        byCurrency.set(p.currency, d);
      }
      if (data.length + byCurrency.size > size) {
        hasMore = true;
        break;
      }
      for (const [currency, d] of [...byCurrency].sort(([a], [b]) => (a < b ? -1 : 1))) {
        data.push({
          id: journal.id,
          type: typeOf(journal, d),
          journalReference: journal.reference,
          currency: currency as CurrencyCode,
          ...d,
          ...(journal.metadata.paymentId ? { paymentId: journal.metadata.paymentId } : {}),
          ...(journal.metadata.paymentOrderId ? { paymentOrderId: journal.metadata.paymentOrderId } : {}),
          ...(journal.metadata.payoutId ? { payoutId: journal.metadata.payoutId } : {}),
          createdAt: journal.createdAt,
        });
      }
      lastJournal = journal.id;
    }
    if (hasMore || journals.length <= size) break;
    cursor = journals.at(-1)!.id;
  }
  return { data, hasMore, nextCursor: hasMore ? (lastJournal ?? null) : null };
}
