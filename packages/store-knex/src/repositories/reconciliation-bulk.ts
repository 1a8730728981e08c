import type { ReconciliationRepository } from "@settlekit/core";
import type { Knex } from "knex";
import type { SqlAdapter } from "../dialect.js";
import { TABLES } from "../tables.js";
import { COLUMNS as PAYMENT_COLUMNS, MONEY as PAYMENT_MONEY, toPayment } from "./payments.js";
import { itemData } from "./reconciliation.js";
import { selectFrom } from "./statement-texts.js";

/**
 * Postgres statements of reconciliation that take a whole batch at once, as arrays: one round trip
 * where the portable repository sends one statement per 100–500 keys.
 *
 * - `claimKeys`: one `INSERT … SELECT unnest(…) ON CONFLICT DO NOTHING RETURNING`; a key it did not
 *   insert was claimed before (by an earlier call, or by a concurrent one that committed first).
 * - `findPayments`: `= ANY(array)` on the primary key and on the `(psp_id, psp_reference)` index.
 * - `insertItems`: one `INSERT … SELECT FROM unnest(…)`, deferred like the portable multi-row
 *   inserts (it travels with the transaction's next statement).
 */
const CLAIM = `WITH k AS (SELECT DISTINCT unnest(CAST(? AS text[])) AS claim),
ins AS (INSERT INTO ${TABLES.reconciliationKeys} (run_id, claim) SELECT ?, claim FROM k
  ON CONFLICT DO NOTHING RETURNING claim)
SELECT k.claim AS claim FROM k WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.claim = k.claim)`;
const PAYMENTS = selectFrom(TABLES.payments, PAYMENT_COLUMNS, PAYMENT_MONEY);
const PAYMENTS_BY_ID = `${PAYMENTS} WHERE psp_id = ? AND id = ANY(CAST(? AS text[]))`;
const PAYMENTS_BY_REFERENCE = `${PAYMENTS} WHERE psp_id = ? AND psp_reference = ANY(CAST(? AS text[]))`;
const INSERT_ITEMS = `INSERT INTO ${TABLES.reconciliationItems} (run_id, seq, class, data, resolution)
SELECT ?, u.seq, u.class, u.data, u.resolution
FROM unnest(CAST(? AS integer[]), CAST(? AS text[]), CAST(? AS text[]), CAST(? AS text[])) AS u(seq, class, data, resolution)`;

/** `repo` with the batch statements above on Postgres; the portable repository elsewhere. */
export function withBulkReconciliation(
  repo: ReconciliationRepository,
  db: Knex | Knex.Transaction,
  sql: SqlAdapter,
): ReconciliationRepository {
  if (sql.dialect !== "postgres") return repo;
  const exec = sql.exec(db);
  return {
    ...repo,
    async claimKeys(runId, keys) {
      if (keys.length === 0) return [];
      return (await exec.all(CLAIM, [keys, runId])).map((r) => String(r.claim));
    },
    async findPayments(pspId, q) {
      const found = new Map<string, ReturnType<typeof toPayment>>();
      if (q.ids?.length) {
        for (const row of await exec.all(PAYMENTS_BY_ID, [pspId, q.ids]))
          found.set(String(row.id), toPayment(row));
      }
      if (q.pspReferences?.length) {
        for (const row of await exec.all(PAYMENTS_BY_REFERENCE, [pspId, q.pspReferences])) {
          found.set(String(row.id), toPayment(row));
        }
      }
      return [...found.values()];
    },
    async insertItems(items) {
      const byRun = new Map<string, typeof items extends readonly (infer I)[] ? I[] : never>();
      for (const item of items) {
        const list = byRun.get(item.runId) ?? [];
        list.push(item);
        byRun.set(item.runId, list);
      }
      for (const [runId, list] of byRun) {
        await exec.defer(INSERT_ITEMS, [
          runId,
          list.map((i) => i.seq),
          list.map((i) => i.class),
          list.map((i) => itemData(i)),
          list.map((i) =>
            i.resolution
              ? JSON.stringify({ ...i.resolution, resolvedAt: i.resolution.resolvedAt.toISOString() })
              : null,
          ),
        ]);
      }
    },
  };
}
