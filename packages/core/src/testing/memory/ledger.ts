import { journalBalanceDeltas } from "../../ledger/journal-rules.js";
import type { AccountBalance, Journal } from "../../ledger/types.js";
import type { LedgerRepository } from "../../ports/ledger.js";
import type { BalanceRow, Row, Sequences, Working } from "./state.js";
import { clone, compare, json, key, violation } from "./state.js";

/** How many balance rows an account is split over (1 = not hot). */
export type BalanceShards = (account: string) => number;

export function memoryLedger(
  w: Working,
  seq: Sequences,
  shards: BalanceShards,
  nextShard: () => number,
): LedgerRepository {
  const byId = (id: string): Row<Journal> | undefined => {
    for (const row of w.read("journals").values()) if (row.value.id === id) return row;
    return undefined;
  };
  const sum = (rows: Iterable<BalanceRow>): AccountBalance[] => {
    const totals = new Map<string, { account: string; currency: string; debits: bigint; credits: bigint }>();
    for (const r of rows) {
      const id = key(r.account, r.currency);
      const total = totals.get(id) ?? { account: r.account, currency: r.currency, debits: 0n, credits: 0n };
      totals.set(id, { ...total, debits: total.debits + r.debits, credits: total.credits + r.credits });
    }
    return [...totals.values()]
      .sort((a, b) => compare(a.account, b.account) || compare(a.currency, b.currency))
      .map((t) => ({ ...t, balance: t.debits - t.credits }));
  };

  return {
    async insertJournal(journal) {
      const existing = w.read("journals").get(journal.reference);
      if (existing) return { inserted: false, existing: clone(existing.value) };
      if (byId(journal.id)) throw violation("journals(id)", `journal ${journal.id} exists`);
      const stored: Journal = { ...clone(journal), metadata: json(journal.metadata) };
      w.write("journals").set(journal.reference, { value: stored, seq: seq.next() });
      // A hot account's delta goes to one of its K rows, round robin (reads sum them).
      const balances = w.write("balanceRows");
      for (const delta of journalBalanceDeltas(journal.postings)) {
        const k = Math.max(1, Math.floor(shards(delta.account)));
        const shard = k === 1 ? 0 : nextShard() % k;
        const id = key(delta.account, delta.currency, shard);
        const row = balances.get(id) ?? {
          account: delta.account,
          currency: delta.currency,
          shard,
          debits: 0n,
          credits: 0n,
        };
        balances.set(id, { ...row, debits: row.debits + delta.debits, credits: row.credits + delta.credits });
      }
      return { inserted: true };
    },
    async getJournal(reference) {
      const row = w.read("journals").get(reference);
      return row ? clone(row.value) : null;
    },
    async listJournals({ account, accounts, limit = 100, afterId }) {
      const wanted = new Set([account, ...(accounts ?? [])]);
      let from = -Infinity;
      if (afterId !== undefined) {
        const anchor = byId(afterId);
        if (!anchor) return [];
        from = anchor.seq;
      }
      return [...w.read("journals").values()]
        .filter((r) => r.seq > from && r.value.postings.some((p) => wanted.has(p.account)))
        .sort((a, b) => a.seq - b.seq)
        .slice(0, Math.min(Math.max(limit, 1), 1000))
        .map((r) => clone(r.value));
    },
    async getBalance(account, currency) {
      const rows = [...w.read("balanceRows").values()].filter(
        (r) => r.account === account && r.currency === currency,
      );
      return sum(rows)[0] ?? { account, currency, debits: 0n, credits: 0n, balance: 0n };
    },
    async listBalances(query = {}) {
      const { accountPrefix, account, currency } = query;
      return sum(
        [...w.read("balanceRows").values()].filter(
          (r) =>
            (!accountPrefix || r.account.startsWith(accountPrefix)) &&
            (account === undefined || r.account === account) &&
            (currency === undefined || currency === "" || r.currency === currency),
        ),
      );
    },
  };
}
