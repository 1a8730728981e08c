import type {
  Payment,
  ReconciliationItem,
  ReconciliationRepository,
  ReconciliationResolution,
  ReconciliationRun,
  SettledJournal,
} from "@settlekit/core";
import { ErrorCodes, exactChargeItem, SETTLED_JOURNAL_KINDS, SettlekitError } from "@settlekit/core";
import type { Knex } from "knex";
import type { SqlAdapter } from "../dialect.js";
import { TABLES } from "../tables.js";
import { readBigInt, readDate, readDateOrNull, readJson, readOptional } from "../values.js";
import { COLUMNS as PAYMENT_COLUMNS, MONEY as PAYMENT_MONEY, toPayment } from "./payments.js";
import { COLUMNS as PAYOUT_COLUMNS, MONEY as PAYOUT_MONEY, toPayout } from "./payouts.js";
import { COLUMNS as REFUND_COLUMNS, toRefund } from "./refunds.js";
import { multiRowInsert, selectFrom, textPerCount, updateFromVersion } from "./statement-texts.js";

type Row = Record<string, unknown>;

const RUN_WRITE = [
  "psp_id",
  "period_from",
  "period_to",
  "source",
  "source_checksum",
  "status",
  "supersedes",
  "superseded_by",
  "record_count",
  "bank_line_count",
  "discrepancy_count",
  "anomaly",
  "totals",
  "version",
  "created_at",
  "completed_at",
];
const RUN_SELECT = selectFrom(TABLES.reconciliationRuns, ["id", ...RUN_WRITE], []);
const INSERT_RUN = `INSERT INTO ${TABLES.reconciliationRuns} (id, ${RUN_WRITE.join(", ")}) VALUES (?${", ?".repeat(RUN_WRITE.length)})`;
const UPDATE_RUN = updateFromVersion(TABLES.reconciliationRuns, RUN_WRITE);
const RUN_BY_ID = `${RUN_SELECT} WHERE id = ?`;
const RUN_BY_SOURCE = `${RUN_SELECT} WHERE psp_id = ? AND period_from = ? AND period_to = ? AND source_checksum = ? AND status <> 'running' ORDER BY created_at DESC, id DESC LIMIT 1`;
const CURRENT_RUN = `${RUN_SELECT} WHERE psp_id = ? AND period_from = ? AND period_to = ? AND status = 'completed' ORDER BY created_at DESC, id DESC LIMIT 1`;
const ITEM_SELECT = `SELECT run_id, seq, class, data, resolution FROM ${TABLES.reconciliationItems}`;
const ITEM_BY_KEY = `${ITEM_SELECT} WHERE run_id = ? AND seq = ?`;
/** Rewrites a stored item in place (`replacedRow` gives its parameters). */
export const REPLACE_ITEM = `UPDATE ${TABLES.reconciliationItems} SET class = ?, data = ?, resolution = ? WHERE run_id = ? AND seq = ?`;
/** A resolution as the items table keeps it. */
export const resolutionText = (r: ReconciliationResolution) =>
  JSON.stringify({ ...r, resolvedAt: r.resolvedAt.toISOString() });
const RESOLVE = `UPDATE ${TABLES.reconciliationItems} SET resolution = ? WHERE run_id = ? AND seq = ? AND resolution IS NULL`;
const insertItems = multiRowInsert(
  `INSERT INTO ${TABLES.reconciliationItems} (run_id, seq, class, data, resolution)`,
  "(?, ?, ?, ?, ?)",
);
const claimText = textPerCount(
  (count) =>
    `INSERT INTO ${TABLES.reconciliationKeys} (run_id, claim) VALUES ${Array(count).fill("(?, ?)").join(", ")} ON CONFLICT (run_id, claim) DO NOTHING RETURNING claim`,
);
/** References per keyed lookup: well under either database's bind-parameter limit. */
const PER_LOOKUP = 500;

const chunks = <T>(list: readonly T[]): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += PER_LOOKUP) out.push(list.slice(i, i + PER_LOOKUP));
  return out;
};

const toRun = (row: Row): ReconciliationRun => ({
  id: String(row.id),
  pspId: String(row.psp_id),
  periodFrom: readDate(row.period_from),
  periodTo: readDate(row.period_to),
  source: String(row.source) as ReconciliationRun["source"],
  sourceChecksum: readOptional(row.source_checksum),
  status: String(row.status) as ReconciliationRun["status"],
  supersedes: readOptional(row.supersedes),
  supersededBy: readOptional(row.superseded_by),
  recordCount: Number(row.record_count),
  bankLineCount: Number(row.bank_line_count),
  discrepancyCount: Number(row.discrepancy_count),
  anomaly: readOptional(row.anomaly) as ReconciliationRun["anomaly"],
  totals: readJson<{ class: string; currency: string; count: number; amount: string }[]>(row.totals).map(
    (t) => ({
      class: t.class as ReconciliationRun["totals"][number]["class"],
      currency: t.currency,
      count: t.count,
      amount: BigInt(t.amount),
    }),
  ),
  version: Number(row.version),
  createdAt: readDate(row.created_at),
  completedAt: readDateOrNull(row.completed_at) ?? undefined,
});

/** An item's fields that are bigints or Dates in the domain and text in its JSON column. */
const BIG = ["amount", "expectedAmount", "fee", "expectedFee"] as const;

export function itemData(item: ReconciliationItem): string {
  const { runId: _r, seq: _s, class: _c, resolution: _res, ...rest } = item;
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) {
    if (v === undefined) continue;
    data[k] = typeof v === "bigint" ? v.toString() : v instanceof Date ? v.toISOString() : v;
  }
  return JSON.stringify(data);
}

export function toItem(row: Row): ReconciliationItem {
  const data = readJson<Record<string, unknown>>(row.data);
  for (const k of BIG) if (typeof data[k] === "string") data[k] = BigInt(data[k] as string);
  if (typeof data.occurredAt === "string") data.occurredAt = new Date(data.occurredAt);
  const resolution =
    row.resolution == null
      ? undefined
      : (() => {
          const r = readJson<Record<string, unknown>>(row.resolution);
          return { ...r, resolvedAt: new Date(String(r.resolvedAt)) } as unknown as ReconciliationResolution;
        })();
  return {
    ...(data as Omit<ReconciliationItem, "runId" | "seq" | "class">),
    runId: String(row.run_id),
    seq: Number(row.seq),
    class: String(row.class) as ReconciliationItem["class"],
    ...(resolution ? { resolution } : {}),
  };
}

/** The parameters of {@link REPLACE_ITEM} for an item. */
export const replacedRow = (item: ReconciliationItem): unknown[] => [
  item.class,
  itemData(item),
  item.resolution ? resolutionText(item.resolution) : null,
  item.runId,
  item.seq,
];

/** A `SettledJournal.cursor` (`<created_at ms>:<seq>`) as the keyset condition's three parameters. */
export function cursorParams(sql: SqlAdapter, cursor: string): unknown[] {
  const [at, seq] = cursor.split(":");
  const time = sql.time(new Date(Number(at)));
  return [time, time, seq];
}

/** A row of the unclaimed journals' statement (the journal with its net on the PSP's accounts). */
export const toSettledJournal = (row: Record<string, unknown>): SettledJournal => ({
  journalReference: String(row.reference),
  kind: String(row.kind),
  createdAt: readDate(row.created_at),
  currency: String(row.currency),
  amount: readBigInt(row.amount),
  metadata: readJson<Record<string, string>>(row.metadata),
  cursor: `${readDate(row.created_at).getTime()}:${String(row.seq)}`,
});

/**
 * Reconciliation runs, items and claimed keys. The unsettled journals of a period are one
 * statement: the journals of the period (index `created_at, seq`, keyset pages) of the settled
 * kinds, joined to their postings on the PSP's accounts (primary key), anti-joined against the
 * run's claimed keys (primary key).
 */
export function knexReconciliation(db: Knex | Knex.Transaction, sql: SqlAdapter): ReconciliationRepository {
  const exec = sql.exec(db);
  const optionalTime = (value: Date | undefined) => (value === undefined ? null : sql.time(value));
  const runParams = (r: ReconciliationRun): unknown[] => [
    r.pspId,
    sql.time(r.periodFrom),
    sql.time(r.periodTo),
    r.source,
    r.sourceChecksum ?? null,
    r.status,
    r.supersedes ?? null,
    r.supersededBy ?? null,
    r.recordCount,
    r.bankLineCount,
    r.discrepancyCount,
    r.anomaly ?? null,
    JSON.stringify(r.totals.map((t) => ({ ...t, amount: t.amount.toString() }))),
    r.version,
    sql.time(r.createdAt),
    optionalTime(r.completedAt),
  ];
  const oneRun = async (text: string, params: unknown[]) => {
    const [row] = await exec.all(text, params);
    return row ? toRun(row) : null;
  };
  const kinds = [...SETTLED_JOURNAL_KINDS];
  const unclaimed = (
    afterCursor: boolean,
    runs = 1,
  ) => `SELECT j.seq AS seq, j.reference AS reference, j.kind AS kind,
  j.created_at AS created_at, j.metadata AS metadata, MIN(p.currency) AS currency,
  CAST(SUM(CASE WHEN p.direction = 'debit' THEN p.amount ELSE -p.amount END) AS TEXT) AS amount
FROM ${TABLES.journals} j JOIN ${TABLES.postings} p ON p.journal_seq = j.seq AND p.account IN (?, ?)
WHERE j.created_at >= ? AND j.created_at < ? AND j.kind IN (${kinds.map(() => "?").join(", ")})${
    afterCursor ? " AND (j.created_at > ? OR (j.created_at = ? AND j.seq > ?))" : ""
  }
  AND NOT EXISTS (SELECT 1 FROM ${TABLES.reconciliationKeys} k WHERE k.run_id ${
    runs === 1 ? "= ?" : `IN (${Array.from({ length: runs }, () => "?").join(", ")})`
  } AND k.claim = j.reference)
GROUP BY j.seq
ORDER BY j.created_at, j.seq
LIMIT ?`;
  const UNCLAIMED_FIRST = unclaimed(false);
  const UNCLAIMED_AFTER = unclaimed(true);

  const repo: ReconciliationRepository = {
    async insertRun(run) {
      await exec.run(INSERT_RUN, [run.id, ...runParams(run)]);
    },
    getRun: (id, options = {}) => oneRun(sql.lockText(RUN_BY_ID, options.forUpdate), [id]),
    async updateRun(next) {
      return (await exec.run(UPDATE_RUN, [...runParams(next), next.id, next.version - 1])) === 1;
    },
    async deleteRun(id) {
      await exec.run(`DELETE FROM ${TABLES.reconciliationKeys} WHERE run_id = ?`, [id]);
      await exec.run(`DELETE FROM ${TABLES.reconciliationItems} WHERE run_id = ?`, [id]);
      await exec.run(`DELETE FROM ${TABLES.reconciliationMatches} WHERE run_id = ?`, [id]);
      await exec.run(`DELETE FROM ${TABLES.reconciliationRuns} WHERE id = ?`, [id]);
    },
    findRunBySource: (q) =>
      oneRun(RUN_BY_SOURCE, [q.pspId, sql.time(q.periodFrom), sql.time(q.periodTo), q.sourceChecksum]),
    async findCurrentRun(q, options = {}) {
      // The period is locked, not the row: when it has no run yet there is no row to lock.
      if (options.forUpdate && sql.keyLockText !== undefined) {
        const period = `${q.periodFrom.toISOString()}/${q.periodTo.toISOString()}`;
        await exec.all(sql.keyLockText, [`settlekit:reconciliation:${q.pspId}:${period}`]);
      }
      return oneRun(CURRENT_RUN, [q.pspId, sql.time(q.periodFrom), sql.time(q.periodTo)]);
    },
    async listRuns(q) {
      let query = db(TABLES.reconciliationRuns)
        .select(["id", ...RUN_WRITE])
        .whereNot("status", "running")
        .orderBy([
          { column: "created_at", order: "desc" },
          { column: "id", order: "desc" },
        ])
        .limit(q.limit);
      if (q.pspId !== undefined) query = query.where("psp_id", q.pspId);
      if (q.beforeId !== undefined) {
        const anchor = await oneRun(RUN_BY_ID, [q.beforeId]);
        if (!anchor) return [];
        const at = sql.time(anchor.createdAt);
        query = query.where((w) =>
          w
            .where("created_at", "<", at)
            .orWhere((x) => x.where("created_at", "=", at).andWhere("id", "<", anchor.id)),
        );
      }
      return (await exec.rows(query)).map(toRun);
    },
    async insertItems(items) {
      await insertItems(
        exec,
        items.map((i) => [
          i.runId,
          i.seq,
          i.class,
          itemData(i),
          i.resolution
            ? JSON.stringify({ ...i.resolution, resolvedAt: i.resolution.resolvedAt.toISOString() })
            : null,
        ]),
      );
    },
    async listItems(q) {
      let query = db(TABLES.reconciliationItems)
        .select("run_id", "seq", "class", "data", "resolution")
        .where("run_id", q.runId)
        .orderBy("seq")
        .limit(q.limit);
      if (q.class !== undefined) query = query.where("class", q.class);
      if (q.afterSeq !== undefined) query = query.where("seq", ">", q.afterSeq);
      return (await exec.rows(query)).map(toItem);
    },
    async getItem(runId, seq) {
      const [row] = await exec.all(ITEM_BY_KEY, [runId, seq]);
      return row ? toItem(row) : null;
    },
    async resolveItem(runId, seq, resolution) {
      const text = JSON.stringify({ ...resolution, resolvedAt: resolution.resolvedAt.toISOString() });
      return (await exec.run(RESOLVE, [text, runId, seq])) === 1;
    },
    // The set-based pass below claims as it matches: nothing is left to find at the end.
    async findRepeatedClaims() {
      return [];
    },
    async replaceItems(items) {
      for (const item of items) {
        if ((await exec.run(REPLACE_ITEM, replacedRow(item))) !== 1)
          throw new SettlekitError(
            ErrorCodes.STORE_ERROR,
            `Item ${item.seq} of run ${item.runId} is missing.`,
          );
      }
    },
    async claimKeys(runId, keys) {
      // One statement per chunk: the keys this call inserted come back; the others were claimed before.
      const before: string[] = [];
      for (const chunk of chunks(keys)) {
        const rows = await exec.all(
          claimText(chunk.length),
          chunk.flatMap((k) => [runId, k]),
        );
        const inserted = new Set(rows.map((r) => String(r.claim)));
        before.push(...chunk.filter((k) => !inserted.has(k)));
      }
      return before;
    },
    async findClaimedKeys(runIds, keys) {
      const found = new Set<string>();
      const runs = [...new Set(runIds)];
      if (runs.length === 0) return [];
      for (const chunk of chunks([...new Set(keys)])) {
        const query = db(TABLES.reconciliationKeys)
          .distinct("claim")
          .whereIn("run_id", runs)
          .whereIn("claim", chunk);
        for (const row of await exec.rows(query)) found.add(String(row.claim));
      }
      return [...found];
    },
    async listUnclaimedJournals(q) {
      const accounts = [`psp:${q.pspId}:receivable`, `psp:${q.pspId}:payouts`];
      const head = [...accounts, sql.time(q.from), sql.time(q.to), ...kinds];
      // The run's own claims, and those of the neighbouring runs named (a few: one statement each).
      const runs = [q.runId, ...new Set(q.alsoClaimedBy ?? [])].filter((r, i) => i === 0 || r !== q.runId);
      let params: unknown[];
      let text: string;
      if (q.after === undefined) {
        text = runs.length === 1 ? UNCLAIMED_FIRST : unclaimed(false, runs.length);
        params = [...head, ...runs, q.limit];
      } else {
        text = runs.length === 1 ? UNCLAIMED_AFTER : unclaimed(true, runs.length);
        params = [...head, ...cursorParams(sql, q.after), ...runs, q.limit];
      }
      const rows = await exec.all(text, params);
      return rows.map(toSettledJournal);
    },
    async matchExactCharges(q) {
      // The join in code: the payments by reference, the keys claimed before, then the exact matches' writes.
      const byReference = new Map<string, Payment[]>();
      const payments = await repo.findPayments(q.pspId, {
        pspReferences: q.charges.map((c) => c.pspReference),
      });
      for (const p of payments) {
        if (p.pspReference === undefined) continue;
        byReference.set(p.pspReference, [...(byReference.get(p.pspReference) ?? []), p]);
      }
      const candidates: { item: ReconciliationItem; keys: string[] }[] = [];
      const notMatched: number[] = [];
      for (const charge of q.charges) {
        const found = byReference.get(charge.pspReference) ?? [];
        const item = found.length === 1 && found[0] ? exactChargeItem(q.runId, charge, found[0]) : null;
        if (item?.journalReference) {
          candidates.push({ item, keys: [`record:${charge.recordId}`, item.journalReference] });
        } else notMatched.push(charge.seq);
      }
      const claimed = new Set<string>();
      for (const chunk of chunks(candidates.flatMap((c) => c.keys))) {
        const rows = await exec.rows(
          db(TABLES.reconciliationKeys).select("claim").where("run_id", q.runId).whereIn("claim", chunk),
        );
        for (const row of rows) claimed.add(String(row.claim));
      }
      const exact = [];
      for (const c of candidates) {
        if (c.keys.some((k) => claimed.has(k))) notMatched.push(c.item.seq);
        else exact.push(c);
      }
      await repo.insertItems(exact.map((c) => c.item));
      await repo.claimKeys(
        q.runId,
        exact.flatMap((c) => c.keys),
      );
      const totals = new Map<string, { currency: string; count: number; amount: bigint }>();
      for (const { item } of exact) {
        const currency = item.currency ?? "";
        const t = totals.get(currency) ?? { currency, count: 0, amount: 0n };
        t.count += 1;
        t.amount += item.amount ?? 0n;
        totals.set(currency, t);
      }
      return { notMatched: notMatched.sort((a, b) => a - b), matched: [...totals.values()] };
    },
    async findPayments(pspId, q) {
      const found = new Map<string, ReturnType<typeof toPayment>>();
      const select = () =>
        db(TABLES.payments).select(sql.columns(PAYMENT_COLUMNS, PAYMENT_MONEY)).where("psp_id", pspId);
      for (const chunk of chunks(q.ids ?? [])) {
        for (const row of await exec.rows(select().whereIn("id", chunk)))
          found.set(String(row.id), toPayment(row));
      }
      for (const chunk of chunks(q.pspReferences ?? [])) {
        for (const row of await exec.rows(select().whereIn("psp_reference", chunk)))
          found.set(String(row.id), toPayment(row));
      }
      return [...found.values()];
    },
    async findRefunds(refs) {
      const out = [];
      for (const chunk of chunks(refs)) {
        const query = db(TABLES.refunds)
          .select(sql.columns(REFUND_COLUMNS, ["amount"]))
          .whereIn("psp_refund_reference", chunk);
        out.push(...(await exec.rows(query)).map(toRefund));
      }
      return out;
    },
    async findPayouts(pspId, refs) {
      const out = [];
      for (const chunk of chunks(refs)) {
        const query = db(TABLES.payouts)
          .select(sql.columns(PAYOUT_COLUMNS, PAYOUT_MONEY))
          .where("psp_id", pspId)
          .whereIn("psp_payout_reference", chunk);
        out.push(...(await exec.rows(query)).map(toPayout));
      }
      return out;
    },
  };
  return repo;
}
