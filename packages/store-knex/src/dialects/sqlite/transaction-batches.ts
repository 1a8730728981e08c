import type { Outcome } from "../../group-commit.js";

/** Where a batch runs its savepoint statements (the physical transaction's connection). */
export interface SavepointTarget {
  raw(sql: string): unknown;
}

interface Pending<Tx> {
  readonly fn: (tx: Tx) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Group commit for whole transactions on an embedded single-writer database (SQLite). Writers
 * queue; one physical transaction runs them back to back, each inside its own savepoint, and
 * commits once: one write lock, one BEGIN/COMMIT and one durable sync for the whole batch instead
 * of per transaction. Each caller still gets all-or-nothing for its own work: a callback that
 * throws is rolled back to its savepoint and gets its error, the others go on. Results are handed
 * out only after the COMMIT, so nobody sees a success that did not become durable; if the commit
 * (or the physical transaction) fails, every caller of that batch gets the error.
 *
 * Transactions that queue while a batch runs join it (up to `maxBatch`), so under load batches
 * grow by themselves and an idle store commits each transaction at once. SQLite allows one writer
 * at a time anyway, so running them in sequence inside one transaction costs no concurrency.
 *
 * `physical(body)` opens the transaction (write lock first), calls `body` with the transaction and
 * where to run savepoint statements (the connection itself: cheaper than a query builder), and
 * commits; it is
 * where the store's retries on a busy database live: a retried batch runs every callback again,
 * which the store contract allows (callbacks only touch the store).
 */
export function transactionBatches<Trx, Tx>(
  physical: (body: (trx: Trx, savepoints: SavepointTarget) => Promise<void>) => Promise<void>,
  repositories: (trx: Trx) => Tx,
  maxBatch = 64,
): <T>(fn: (tx: Tx) => Promise<T>) => Promise<T> {
  const queue: Pending<Tx>[] = [];
  let draining = false;

  async function runBatch(): Promise<void> {
    const batch: Pending<Tx>[] = [];
    let outcomes: Outcome<unknown>[] = [];
    try {
      await physical(async (trx, savepoints) => {
        outcomes = [];
        const tx = repositories(trx);
        for (let i = 0; ; i++) {
          // Joins while the batch is open: what queued during the previous callback runs next.
          if (i === batch.length) {
            const next = batch.length < maxBatch ? queue.shift() : undefined;
            if (!next) break;
            batch.push(next);
          }
          await savepoints.raw("SAVEPOINT settlekit_tx");
          try {
            const value = await batch[i]!.fn(tx);
            await savepoints.raw("RELEASE settlekit_tx");
            outcomes.push({ value });
          } catch (error) {
            try {
              await savepoints.raw("ROLLBACK TO settlekit_tx");
              await savepoints.raw("RELEASE settlekit_tx");
            } catch {
              // SQLite rolls the whole transaction back on some errors (disk full, I/O error): the
              // savepoint is gone with it, and the callback's error is what the batch fails with.
              throw error;
            }
            outcomes.push({ error });
          }
        }
      });
    } catch (error) {
      // A physical transaction that failed before it took anyone (BEGIN failed, the write lock's
      // table is missing…) fails the callers it would have taken: otherwise they would stay
      // queued and the next batch would fail the same way, forever.
      if (batch.length === 0) batch.push(...queue.splice(0, maxBatch));
      for (const pending of batch) pending.reject(error);
      return;
    }
    batch.forEach((pending, i) => {
      const outcome = outcomes[i]!;
      if ("error" in outcome) pending.reject(outcome.error);
      else pending.resolve(outcome.value);
    });
  }

  async function drain(): Promise<void> {
    try {
      while (queue.length > 0) {
        await runBatch();
        // A macrotask turn between batches: with a driver that answers synchronously (better-sqlite3)
        // a busy queue would otherwise run on microtasks only and starve timers and I/O.
        if (queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      draining = false;
    }
  }

  return <T>(fn: (tx: Tx) => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (!draining) {
        draining = true;
        void drain();
      }
    });
}
