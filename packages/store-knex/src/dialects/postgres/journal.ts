import type { Journal } from "@settlekit/core";
import { ErrorCodes, SettlekitError } from "@settlekit/core";
import type { Knex } from "knex";
import type { JournalInsert } from "../../dialect.js";
import type { Outcome } from "../../group-commit.js";
import { groupCommit } from "../../group-commit.js";
import type { ShardPolicy } from "../../repositories/balance-rows.js";
import { balanceRowsFor } from "../../repositories/balance-rows.js";
import { PG_INSERT_JOURNAL, PG_INSERT_JOURNALS } from "../../repositories/ledger-statements.js";
import { isClientTimeout } from "../../store-errors.js";
import { withConnection } from "../common.js";
import type { PgConnection } from "./exec.js";
import { pgStatement } from "./statements.js";

/**
 * Inserts through `db`'s own pg connection (the transaction's, or one borrowed from the pool):
 * named by the statement registry (its text never changes: arrays through `unnest`).
 * Returns false on a reference conflict.
 */
export async function insertJournalPostgres(
  db: Knex | Knex.Transaction,
  journal: Journal,
  shards: ShardPolicy,
): Promise<boolean> {
  const balances = balanceRowsFor(journal.postings, shards);
  return withConnection(db, async (connection: PgConnection) => {
    const { rows } = await connection.query({
      ...pgStatement(PG_INSERT_JOURNAL),
      values: [
        journal.id,
        journal.reference,
        journal.kind,
        JSON.stringify(journal.metadata),
        journal.createdAt,
        journal.postings.map((p) => p.account),
        journal.postings.map((p) => p.currency),
        journal.postings.map((p) => p.direction),
        journal.postings.map((p) => p.amount.toString()),
        balances.map((b) => b.account),
        balances.map((b) => b.currency),
        balances.map((b) => b.shard),
        balances.map((b) => b.debits.toString()),
        balances.map((b) => b.credits.toString()),
      ],
    });
    return rows.length === 1;
  });
}

const byReference = (a: Journal, b: Journal) =>
  a.reference < b.reference ? -1 : a.reference > b.reference ? 1 : 0;

/** Inserts a group of journals in one autocommit statement; per journal: inserted or not. */
async function insertGroup(
  knex: Knex,
  journals: Journal[],
  shards: ShardPolicy,
): Promise<Outcome<boolean>[]> {
  // One journal per reference goes in; a duplicate in the same group reports "not inserted" and
  // its caller reads the journal that did.
  const firsts = new Map<string, Journal>();
  for (const journal of journals) if (!firsts.has(journal.reference)) firsts.set(journal.reference, journal);
  const group = [...firsts.values()].sort(byReference);
  const postings = group.flatMap((j) => j.postings.map((p, ord) => ({ reference: j.reference, ord, ...p })));
  const balances = group.flatMap((j) =>
    balanceRowsFor(j.postings, shards).map((b) => ({ reference: j.reference, ...b })),
  );
  const { rows } = await withConnection(knex, (connection: PgConnection) =>
    connection.query({
      ...pgStatement(PG_INSERT_JOURNALS),
      values: [
        group.map((j) => j.id),
        group.map((j) => j.reference),
        group.map((j) => j.kind),
        group.map((j) => JSON.stringify(j.metadata)),
        group.map((j) => j.createdAt),
        postings.map((p) => p.reference),
        postings.map((p) => p.ord),
        postings.map((p) => p.account),
        postings.map((p) => p.currency),
        postings.map((p) => p.direction),
        postings.map((p) => p.amount.toString()),
        balances.map((b) => b.reference),
        balances.map((b) => b.account),
        balances.map((b) => b.currency),
        balances.map((b) => b.shard),
        balances.map((b) => b.debits.toString()),
        balances.map((b) => b.credits.toString()),
      ],
    }),
  );
  const inserted = new Set((rows as { reference: string }[]).map((r) => r.reference));
  return journals.map((j) => ({ value: firsts.get(j.reference) === j && inserted.has(j.reference) }));
}

/**
 * What a caller gets for a journal statement pg stopped waiting for (its client-side
 * `query_timeout`). Outside a transaction that statement commits on its own, and it runs on at
 * the server: it may commit after the caller was answered, so the outcome is unknown — not
 * `STORE_UNAVAILABLE`, which says nothing was committed. Posted again under the same reference,
 * the journal is posted once either way.
 */
function commitUnknown(error: unknown): SettlekitError {
  return new SettlekitError(
    ErrorCodes.STORE_COMMIT_UNKNOWN,
    "The database did not answer a journal post in time (pg's query_timeout) and may still commit it: post it again with the same reference to learn whether it did.",
    { cause: error, details: { timeout: true } },
  );
}

/**
 * Transaction-free journal posts on Postgres, group-committed. When a group fails as a whole for
 * a reason that is not a transient conflict, its journals are retried one by one so only the
 * faulty one fails. A group pg stopped waiting for is no one journal's fault: every caller of it
 * gets `STORE_COMMIT_UNKNOWN`, and nothing is sent again at once (the database is busy).
 */
export function postgresJournalWriter(
  knex: Knex,
  shards: ShardPolicy,
  isTransient: (error: unknown) => boolean,
): JournalInsert {
  return groupCommit(async (journals: Journal[]) => {
    try {
      return await insertGroup(knex, journals, shards);
    } catch (error) {
      if (isClientTimeout(error)) throw commitUnknown(error);
      if (journals.length === 1 || isTransient(error)) throw error;
      return Promise.all(
        journals.map(async (journal): Promise<Outcome<boolean>> => {
          try {
            return { value: await insertJournalPostgres(knex, journal, shards) };
          } catch (single) {
            return { error: isClientTimeout(single) ? commitUnknown(single) : single };
          }
        }),
      );
    }
  });
}
