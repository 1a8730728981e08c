import type { ReconciliationItem, ReconciliationRepository, ReconciliationResolution } from "@settlekit/core";
import type { Knex } from "knex";
import type { SqlAdapter } from "../dialect.js";
import { TABLES } from "../tables.js";
import { COLUMNS as PAYMENT_COLUMNS, MONEY as PAYMENT_MONEY, toPayment } from "./payments.js";
import { itemData, toItem } from "./reconciliation.js";
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
 *   two keys and write ONE row for the batch's exact matches (`settlekit_reconciliation_matches`:
 *   the document as sent, and which seq matched which payment), not one item row each; what comes
 *   back is the seqs of the rest and the exact matches' count and sum per currency.
 * - `listItems`, `getItem`, `resolveItem`: the item rows merged in seq order with those batch rows,
 *   expanded into the items `itemData` would have stored (core's `exactChargeItem`: the record's
 *   side from the document, the payment's from the match); a resolved exact match is written as
 *   an item row, which then stands for it.
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
const MATCH_EXACT = `WITH d AS (SELECT CAST(? AS text) AS doc), s AS (
  SELECT x.* FROM d, json_to_recordset(CAST(d.doc AS json))
    AS x(seq integer, id text, ref text, amount bigint, cur text)
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
  INSERT INTO ${TABLES.reconciliationMatches} (run_id, first_seq, last_seq, charges, matched)
  SELECT ?, min(e.seq), max(e.seq), (SELECT d.doc FROM d),
    CAST(json_agg(json_build_array(e.seq, e.payment_id, e.payment_currency, CAST(e.payment_amount AS text)) ORDER BY e.seq) AS text)
  FROM e HAVING count(*) > 0
)
SELECT s.seq AS seq, NULL AS currency, NULL AS count, NULL AS amount FROM s
  WHERE NOT EXISTS (SELECT 1 FROM e WHERE e.seq = s.seq)
UNION ALL
SELECT NULL, e.cur, count(*), CAST(sum(e.amount) AS text) FROM e GROUP BY e.cur`;

/** A staged charge as the batch's document carries it (and its row of exact matches keeps it). */
interface ChargeDoc {
  seq: number;
  id: string;
  ref: string;
  amount: string;
  cur: string;
  fee: string;
  line?: number;
  at: string;
  bank?: string;
}

const MATCHES_FROM = `SELECT first_seq, last_seq, charges, matched FROM ${TABLES.reconciliationMatches}`;
const MATCHES_AFTER = `${MATCHES_FROM} WHERE run_id = ? AND last_seq > ? AND first_seq <= ? ORDER BY first_seq LIMIT 2`;
const MATCHES_AT = `${MATCHES_FROM} WHERE run_id = ? AND first_seq <= ? AND last_seq >= ?`;
const ITEM_ROW_AT = `SELECT run_id, seq, class, data, resolution FROM ${TABLES.reconciliationItems} WHERE run_id = ? AND seq = ?`;
const INSERT_RESOLVED = `INSERT INTO ${TABLES.reconciliationItems} (run_id, seq, class, data, resolution) VALUES (?, ?, 'matched', ?, ?) ON CONFLICT (run_id, seq) DO NOTHING`;

/**
 * The items of one row of exact matches, in seq order: what `itemData` stored for core's
 * `exactChargeItem` of each (the record's side in the order `itemData` writes it, then the
 * payment's), decoded as an item row is.
 */
function expandMatches(
  runId: string,
  row: Record<string, unknown>,
  range: { after: number; upTo: number; max: number },
): ReconciliationItem[] {
  const charges = new Map<number, ChargeDoc>();
  for (const c of JSON.parse(String(row.charges)) as ChargeDoc[]) charges.set(c.seq, c);
  const out: ReconciliationItem[] = [];
  for (const [seq, paymentId, currency, amount] of JSON.parse(String(row.matched)) as [
    number,
    string,
    string,
    string,
  ][]) {
    if (seq <= range.after || seq > range.upTo) continue;
    if (out.length >= range.max) break;
    const c = charges.get(seq);
    if (!c) continue;
    const data = {
      leg: "psp_ledger",
      line: c.line,
      recordId: c.id,
      recordType: "charge",
      currency: c.cur,
      amount: c.amount,
      fee: c.fee,
      occurredAt: c.at,
      bankPayoutReference: c.bank || undefined,
      reference: c.ref,
      paymentId,
      expectedCurrency: currency,
      journalReference: `payment:${paymentId}:${c.ref}`,
      expectedAmount: amount,
      message: `matches payment ${paymentId}`,
    };
    out.push(toItem({ run_id: runId, seq, class: "matched", data: JSON.stringify(data), resolution: null }));
  }
  return out;
}

const resolutionText = (r: ReconciliationResolution) =>
  JSON.stringify({ ...r, resolvedAt: r.resolvedAt.toISOString() });

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
      // The document as `JSON.stringify` of ChargeDocs would write it, without an object per charge.
      let doc = "[";
      for (const [i, c] of charges.entries()) {
        doc += `${i === 0 ? "" : ","}{"seq":${c.seq},"id":${JSON.stringify(c.recordId)},"ref":${JSON.stringify(c.pspReference)},"amount":"${c.amount}","cur":${JSON.stringify(c.currency)},"fee":"${c.fee}"${c.line === undefined ? "" : `,"line":${c.line}`},"at":"${c.occurredAt.toISOString()}"${c.bankPayoutReference ? `,"bank":${JSON.stringify(c.bankPayoutReference)}` : ""}}`;
      }
      doc += "]";
      const rows = await exec.all(MATCH_EXACT, [doc, q.pspId, q.runId, q.runId, q.runId]);
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
    async listItems(q) {
      const rows = await repo.listItems(q);
      if (q.class !== undefined && q.class !== "matched") return rows;
      // The exact matches after `afterSeq` up to where this page of item rows ends (when it is full).
      const after = q.afterSeq ?? 0;
      const last = rows.length >= q.limit ? (rows[rows.length - 1]?.seq ?? after) : 2 ** 31 - 1;
      const exact: ReconciliationItem[] = [];
      let from = after;
      while (exact.length < q.limit && from < last) {
        const found = await exec.all(MATCHES_AFTER, [q.runId, from, last]);
        for (const row of found) {
          exact.push(...expandMatches(q.runId, row, { after, upTo: last, max: q.limit - exact.length }));
        }
        if (found.length < 2) break;
        from = Number(found[found.length - 1]?.last_seq);
      }
      if (exact.length === 0) return rows;
      // A resolved exact match has an item row (in `rows`: every item row up to `last` is): that row stands for it.
      const shadowed = new Set(rows.map((r) => r.seq));
      const merged: ReconciliationItem[] = [];
      let i = 0;
      let j = 0;
      while (merged.length < q.limit && (i < rows.length || j < exact.length)) {
        const a = rows[i];
        const b = exact[j];
        if (b && shadowed.has(b.seq)) {
          j += 1;
        } else if (a && (!b || a.seq < b.seq)) {
          merged.push(a);
          i += 1;
        } else if (b) {
          merged.push(b);
          j += 1;
        }
      }
      return merged;
    },
    async getItem(runId, seq) {
      const [row] = await exec.all(ITEM_ROW_AT, [runId, seq]);
      if (row) return toItem(row);
      const [matches] = await exec.all(MATCHES_AT, [runId, seq, seq]);
      return (matches && expandMatches(runId, matches, { after: seq - 1, upTo: seq, max: 1 })[0]) ?? null;
    },
    async resolveItem(runId, seq, resolution) {
      if (await repo.resolveItem(runId, seq, resolution)) return true;
      // An exact match held in a batch row: written as an item row, resolved (once: the primary key).
      const [row] = await exec.all(ITEM_ROW_AT, [runId, seq]);
      if (row) return false;
      const [matches] = await exec.all(MATCHES_AT, [runId, seq, seq]);
      const item = matches && expandMatches(runId, matches, { after: seq - 1, upTo: seq, max: 1 })[0];
      if (!item) return false;
      return (
        (await exec.run(INSERT_RESOLVED, [runId, seq, itemData(item), resolutionText(resolution)])) === 1
      );
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
          list.map((i) => (i.resolution ? resolutionText(i.resolution) : null)),
        ]);
      }
    },
  };
}
