import type { ReconciliationRepository, StagedCharge } from "@settlekit/core";
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
 * - `matchExactCharges`: one statement. The batch travels as one JSON document
 *   (`json_to_recordset`), is joined to the payments on the `(psp_id, psp_reference)` unique index
 *   and anti-joined against the run's claimed keys; data-modifying CTEs claim the exact matches'
 *   two keys and write their items (the JSON of core's `exactChargeItem`: the record's side
 *   built here, the payment's side in SQL); what comes back is the seqs of the rest and the
 *   exact matches' count and sum per currency.
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

const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;
/** `to_json(text)::text`: a JSON string literal of a text value, escaped as `JSON.stringify` would. */
const str = (expr: string) => `to_json(CAST(${expr} AS text))::text`;
/**
 * An exact match's item JSON: the record's side (`head`, built by {@link recordHead} as
 * `itemData` writes it, without the closing brace) and the payment's side, in SQL.
 */
const EXACT_ITEM_DATA = [
  "e.head",
  `',"paymentId":' || ${str("e.payment_id")}`,
  `',"expectedCurrency":' || ${str("e.payment_currency")}`,
  `',"journalReference":' || ${str("e.journal")}`,
  `',"expectedAmount":"' || e.payment_amount || '"'`,
  `',"message":' || ${str("'matches payment ' || e.payment_id")}`,
  `'}'`,
].join(" || ");
const MATCH_EXACT = `WITH s AS (
  SELECT x.* FROM json_to_recordset(CAST(? AS json))
    AS x(seq integer, id text, ref text, amount bigint, cur text, head text)
), m AS (
  SELECT s.*, p.id AS payment_id, p.currency AS payment_currency, p.amount AS payment_amount,
    'record:' || s.id AS record_key, 'payment:' || p.id || ':' || p.psp_reference AS journal
  FROM s JOIN ${TABLES.payments} p ON p.psp_id = ? AND p.psp_reference = s.ref
  WHERE p.status IN ('succeeded', 'partially_refunded', 'refunded') AND p.currency = s.cur AND p.amount = s.amount
), e AS (
  SELECT m.* FROM m WHERE NOT EXISTS (
    SELECT 1 FROM ${TABLES.reconciliationKeys} k WHERE k.run_id = ? AND k.claim IN (m.record_key, m.journal))
), claimed AS (
  INSERT INTO ${TABLES.reconciliationKeys} (run_id, claim)
  SELECT ?, v.claim FROM e CROSS JOIN LATERAL (VALUES (e.record_key), (e.journal)) AS v(claim)
), written AS (
  INSERT INTO ${TABLES.reconciliationItems} (run_id, seq, class, data)
  SELECT ?, e.seq, 'matched', ${EXACT_ITEM_DATA} FROM e
)
SELECT s.seq AS seq, NULL AS currency, NULL AS count, NULL AS amount FROM s
  WHERE NOT EXISTS (SELECT 1 FROM e WHERE e.seq = s.seq)
UNION ALL
SELECT NULL, e.cur, count(*), CAST(sum(e.amount) AS text) FROM e GROUP BY e.cur`;

/**
 * The record's side of an exact match's item JSON — what `itemData` writes for the fields
 * `exactChargeItem` takes from the record, in its order — without the closing brace.
 */
function recordHead(c: StagedCharge): string {
  const json = JSON.stringify({
    leg: "psp_ledger",
    line: c.line,
    recordId: c.recordId,
    recordType: "charge",
    currency: c.currency,
    amount: c.amount.toString(),
    fee: c.fee.toString(),
    occurredAt: c.occurredAt.toISOString(),
    bankPayoutReference: c.bankPayoutReference || undefined,
    reference: c.pspReference,
  });
  return json.slice(0, -1);
}

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
    async matchExactCharges(q) {
      // An amount outside Postgres's bigint is no payment's amount: left to the classifier, unsent.
      const outOfRange = q.charges
        .filter((c) => c.amount < INT8_MIN || c.amount > INT8_MAX)
        .map((c) => c.seq);
      const charges =
        outOfRange.length === 0 ? q.charges : q.charges.filter((c) => !outOfRange.includes(c.seq));
      if (charges.length === 0) return { notMatched: outOfRange, matched: [] };
      const staged = JSON.stringify(
        charges.map((c) => ({
          seq: c.seq,
          id: c.recordId,
          ref: c.pspReference,
          amount: c.amount.toString(),
          cur: c.currency,
          head: recordHead(c),
        })),
      );
      const rows = await exec.all(MATCH_EXACT, [staged, q.pspId, q.runId, q.runId, q.runId]);
      const notMatched: number[] = [...outOfRange];
      const matched: { currency: string; count: number; amount: bigint }[] = [];
      for (const row of rows) {
        if (row.seq != null) notMatched.push(Number(row.seq));
        else
          matched.push({
            currency: String(row.currency),
            count: Number(row.count),
            amount: BigInt(String(row.amount)),
          });
      }
      return { notMatched: notMatched.sort((a, b) => a - b), matched };
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
