import type { Posting } from "@settlekit/core";
import { journalBalanceDeltas } from "@settlekit/core";

/** How many balance rows an account is split over (1 = not hot). */
export type ShardPolicy = (account: string) => number;

export interface BalanceRow {
  readonly account: string;
  readonly currency: string;
  readonly shard: number;
  readonly debits: bigint;
  readonly credits: bigint;
}

/**
 * The balance-row updates of a journal, in core's global (account, currency) order. A hot account
 * gets a random one of its K rows: concurrent writers spread over K row locks; reads sum them.
 */
export function balanceRowsFor(postings: readonly Posting[], shards: ShardPolicy): BalanceRow[] {
  return journalBalanceDeltas(postings).map((delta) => {
    const k = Math.max(1, Math.floor(shards(delta.account)));
    return { ...delta, shard: k === 1 ? 0 : Math.floor(Math.random() * k) };
  });
}
