import type {
  ReconciliationItem,
  ReconciliationRepository,
  RepeatedClaim,
  SettledJournal,
} from "@settlekit/core";
import { ErrorCodes, SETTLED_JOURNAL_KINDS, SettlekitError } from "@settlekit/core";
import type { Knex } from "knex";
import type { SqlAdapter } from "../dialect.js";
import { TABLES } from "../tables.js";
import { COLUMNS as PAYMENT_COLUMNS, MONEY as PAYMENT_MONEY, toPayment } from "./payments.js";
import {
  cursorParams,
  itemData,
  REPLACE_ITEM,
  replacedRow,
  resolutionText,
  toItem,
  toSettledJournal,
} from "./reconciliation.js";
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
 *   (`json_to_recordset`) and joined to the payments on the `(psp_id, psp_reference)` unique
 *   index — core stages no charge whose keys an earlier record of the run claimed (see the
 *   port), so there is nothing to look up in the run's claims; a data-modifying CTE writes ONE row for the batch's exact matches
 *   (`settlekit_reconciliation_matches`: the document as sent, which seq matched which payment,
 *   and their claims — seqs, record ids, capture journals — as arrays), not one item row and two
 *   key rows each; what comes back is the seqs of the rest and the exact matches' count and sum
 *   per currency. Those claims are not looked up by later batches (that was two index probes and
 *   two index inserts per record, most of the database's time): a later record that repeats one
 *   is found once, at the end of the run (`findRepeatedClaims`: core stages no record id or
 *   reference twice in a run, so only the classifier's claims — a few per batch — can repeat
 *   one: one pass over the run's arrays, each element one hash probe), and the reads of claims
 *   (`findClaimedKeys`, `listUnclaimedJournals`) read the arrays too.
 * - `listItems`, `getItem`, `resolveItem`: the item rows merged in seq order with those batch rows,
 *   expanded into the items `itemData` would have stored (core's `exactChargeItem`: the record's
 *   side from the document, the payment's from the match); a resolved exact match is written as
 *   an item row, which then stands for it.
 */
const CLAIM = `WITH k AS (SELECT DISTINCT ON (u.claim) u.claim, u.seq
  FROM unnest(CAST(? AS text[]), CAST(? AS integer[])) AS u(claim, seq)),
ins AS (INSERT INTO ${TABLES.reconciliationKeys} (run_id, claim, seq) SELECT ?, claim, seq FROM k
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
), e AS (SELECT * FROM m), written AS (
  INSERT INTO ${TABLES.reconciliationMatches} (run_id, first_seq, last_seq, charges, matched, seqs, record_ids, journals)
  SELECT ?, min(e.seq), max(e.seq), (SELECT d.doc FROM d),
    CAST(json_agg(json_build_array(e.seq, e.payment_id, e.payment_currency, CAST(e.payment_amount AS text)) ORDER BY e.seq) AS text),
    array_agg(e.seq ORDER BY e.seq), array_agg(e.id ORDER BY e.seq), array_agg(e.journal ORDER BY e.seq)
  FROM e HAVING count(*) > 0
)
SELECT s.seq AS seq, NULL AS currency, NULL AS count, NULL AS amount FROM s
  WHERE NOT EXISTS (SELECT 1 FROM e WHERE e.seq = s.seq)
UNION ALL
SELECT NULL, e.cur, count(*), CAST(sum(e.amount) AS text) FROM e GROUP BY e.cur`;

/** The classifier's claims of record ids and capture journals: the only ones an exact match of the run can share. */
const CLASSIFIER_CLAIMS = `SELECT claim, seq FROM ${TABLES.reconciliationKeys}
WHERE run_id = ? AND seq IS NOT NULL AND (claim LIKE 'record:%' OR claim LIKE 'payment:%')`;
/** The exact matches holding any of those keys: one pass over the run's arrays, each element one hash probe. */
const EXACT_CLAIMING = `SELECT 'record:' || u.rid AS key, u.seq AS seq FROM ${TABLES.reconciliationMatches} m
  CROSS JOIN LATERAL unnest(m.seqs, m.record_ids) AS u(seq, rid) WHERE m.run_id = ? AND u.rid = ANY(CAST(? AS text[]))
UNION ALL SELECT u.journal, u.seq FROM ${TABLES.reconciliationMatches} m
  CROSS JOIN LATERAL unnest(m.seqs, m.journals) AS u(seq, journal) WHERE m.run_id = ? AND u.journal = ANY(CAST(? AS text[]))`;
const STRIP_MATCH = `UPDATE ${TABLES.reconciliationMatches} SET matched = (
  SELECT CAST(COALESCE(json_agg(e.v ORDER BY e.n), '[]') AS text)
  FROM json_array_elements(CAST(matched AS json)) WITH ORDINALITY AS e(v, n) WHERE CAST(e.v->>0 AS integer) <> ?)
WHERE run_id = ? AND first_seq <= ? AND last_seq >= ?`;
/** An item row, with {@link REPLACE_ITEM}'s parameters. */
const INSERT_ROW = `INSERT INTO ${TABLES.reconciliationItems} (class, data, resolution, run_id, seq) VALUES (?, ?, ?, ?, ?)`;
const CLAIMED_IN_ARRAYS = `SELECT DISTINCT u.journal AS claim FROM ${TABLES.reconciliationMatches} m
  CROSS JOIN LATERAL unnest(m.journals) AS u(journal) WHERE m.run_id = ANY(CAST(? AS text[])) AND u.journal = ANY(CAST(? AS text[]))
UNION SELECT DISTINCT 'record:' || u.rid FROM ${TABLES.reconciliationMatches} m
  CROSS JOIN LATERAL unnest(m.record_ids) AS u(rid) WHERE m.run_id = ANY(CAST(? AS text[])) AND u.rid = ANY(CAST(? AS text[]))`;

/**
 * The period's journals on the PSP's accounts that neither a key row nor an exact match's array of
 * the run claimed: two hash anti-joins, in keyset pages.
 */
const unclaimed = (afterCursor: boolean) => `SELECT j.seq AS seq, j.reference AS reference, j.kind AS kind,
  j.created_at AS created_at, j.metadata AS metadata, MIN(p.currency) AS currency,
  CAST(SUM(CASE WHEN p.direction = 'debit' THEN p.amount ELSE -p.amount END) AS TEXT) AS amount
FROM ${TABLES.journals} j JOIN ${TABLES.postings} p ON p.journal_seq = j.seq AND p.account IN (?, ?)
WHERE j.created_at >= ? AND j.created_at < ? AND j.kind = ANY(CAST(? AS text[]))${
  afterCursor ? " AND (j.created_at > ? OR (j.created_at = ? AND j.seq > ?))" : ""
}
  AND NOT EXISTS (SELECT 1 FROM ${TABLES.reconciliationKeys} k
    WHERE k.run_id = ANY(CAST(? AS text[])) AND k.claim = j.reference)
  AND NOT EXISTS (SELECT 1 FROM ${TABLES.reconciliationMatches} m CROSS JOIN LATERAL unnest(m.journals) AS u(journal)
    WHERE m.run_id = ANY(CAST(? AS text[])) AND u.journal = j.reference)
GROUP BY j.seq
ORDER BY j.created_at, j.seq
LIMIT ?`;
const UNCLAIMED_FIRST = unclaimed(false);
const UNCLAIMED_AFTER = unclaimed(true);

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

/** `repo` with the batch statements above on Postgres; the portable repository elsewhere. */
export function withBulkReconciliation(
  repo: ReconciliationRepository,
  db: Knex | Knex.Transaction,
  sql: SqlAdapter,
): ReconciliationRepository {
  if (sql.dialect !== "postgres") return repo;
  const exec = sql.exec(db);
  const bulk: ReconciliationRepository = {
    ...repo,
    async claimKeys(runId, keys, seqs) {
      if (keys.length === 0) return [];
      return (await exec.all(CLAIM, [keys, keys.map((_k, i) => seqs?.[i] ?? null), runId])).map((r) =>
        String(r.claim),
      );
    },
    async listUnclaimedJournals(q) {
      const head = [
        `psp:${q.pspId}:receivable`,
        `psp:${q.pspId}:payouts`,
        sql.time(q.from),
        sql.time(q.to),
        [...SETTLED_JOURNAL_KINDS],
      ];
      // The run's own claims in the statement; the neighbouring runs' (up to eight periods of a
      // million records each) only for the few journals that leaves, one keyed look-up per page.
      const others = [...new Set(q.alsoClaimedBy ?? [])].filter((r) => r !== q.runId);
      const out: SettledJournal[] = [];
      for (let after = q.after; ; ) {
        const cursor = after === undefined ? [] : cursorParams(sql, after);
        const text = after === undefined ? UNCLAIMED_FIRST : UNCLAIMED_AFTER;
        const page = (await exec.all(text, [...head, ...cursor, [q.runId], [q.runId], q.limit])).map(
          toSettledJournal,
        );
        const elsewhere =
          others.length > 0 && page.length > 0
            ? new Set(
                await bulk.findClaimedKeys(
                  others,
                  page.map((j) => j.journalReference),
                ),
              )
            : new Set<string>();
        for (const journal of page) {
          if (elsewhere.has(journal.journalReference)) continue;
          out.push(journal);
          if (out.length >= q.limit) return out;
        }
        if (page.length < q.limit) return out;
        after = page[page.length - 1]?.cursor;
      }
    },
    async findClaimedKeys(runIds, keys) {
      const found = new Set(await repo.findClaimedKeys(runIds, keys));
      // The exact matches' claims: capture journals and record ids, in their batches' arrays.
      const journals = keys.filter((k) => k.startsWith("payment:") && !found.has(k));
      const records = keys.filter((k) => k.startsWith("record:") && !found.has(k)).map((k) => k.slice(7));
      if (runIds.length > 0 && journals.length + records.length > 0) {
        for (const row of await exec.all(CLAIMED_IN_ARRAYS, [runIds, journals, runIds, records]))
          found.add(String(row.claim));
      }
      return [...found];
    },
    async findRepeatedClaims(runId) {
      // Callers stage no record id or reference twice in a run (see matchExactCharges), so an
      // exact match can only share a key with the classifier's claims (a few per batch): those
      // are read first, then the exact matches holding one of them.
      const classifier = new Map<string, number>();
      for (const row of await exec.all(CLASSIFIER_CLAIMS, [runId]))
        classifier.set(String(row.claim), Number(row.seq));
      if (classifier.size === 0) return [];
      const records: string[] = [];
      const journals: string[] = [];
      for (const k of classifier.keys()) {
        if (k.startsWith("record:")) records.push(k.slice(7));
        else journals.push(k);
      }
      // Per key, the later claim is the repeat; a record repeating both its keys is one repeat,
      // of its record id (as the classifier says).
      const keyOf = new Map<number, string>();
      for (const row of await exec.all(EXACT_CLAIMING, [runId, records, runId, journals])) {
        const key = String(row.key);
        const exact = Number(row.seq);
        const other = classifier.get(key) as number;
        const seq = Math.max(exact, other);
        if (!keyOf.get(seq)?.startsWith("record:")) keyOf.set(seq, key);
      }
      const out: RepeatedClaim[] = [];
      for (const [seq, key] of [...keyOf].sort((a, b) => a[0] - b[0]))
        out.push({ seq, key, item: await bulk.getItem(runId, seq) });
      return out;
    },
    async replaceItems(items) {
      for (const item of items) {
        const row = replacedRow(item);
        if ((await exec.run(REPLACE_ITEM, row)) === 1) continue;
        // An exact match held in a batch row: taken out of it (its claims stay), written as a row.
        if ((await exec.run(STRIP_MATCH, [item.seq, item.runId, item.seq, item.seq])) !== 1)
          throw new SettlekitError(
            ErrorCodes.STORE_ERROR,
            `Item ${item.seq} of run ${item.runId} is missing.`,
          );
        await exec.run(INSERT_ROW, row);
      }
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
      const rows = await exec.all(MATCH_EXACT, [doc, q.pspId, q.runId]);
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
  return bulk;
}
