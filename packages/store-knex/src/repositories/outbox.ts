import type { OutboxEvent, OutboxRepository } from "@settlekit/core";
import type { Knex } from "knex";
import type { SqlAdapter } from "../dialect.js";
import { TABLES } from "../tables.js";
import { readDate, readDateOrNull, readJson } from "../values.js";
import { multiRowInsert } from "./statement-texts.js";

type Row = Record<string, unknown>;

const toEvent = (row: Row): OutboxEvent => ({
  id: String(row.id),
  type: String(row.type),
  aggregateType: String(row.aggregate_type),
  aggregateId: String(row.aggregate_id),
  payload: readJson(row.payload),
  createdAt: readDate(row.created_at),
  availableAt: readDate(row.available_at),
  publishedAt: readDateOrNull(row.published_at),
  attempts: Number(row.attempts),
  lastError: (row.last_error as string | null) ?? null,
});

const append = multiRowInsert(
  `INSERT INTO ${TABLES.outbox} (id, type, aggregate_type, aggregate_id, payload, created_at, available_at, attempts)`,
  "(?, ?, ?, ?, ?, ?, ?, 0)",
);

/**
 * The claim, by aggregate, in one statement. `picked`: the oldest claimable events (unpublished,
 * due, no live lease) whose aggregate has no earlier unpublished event that cannot be claimed now
 * (leased by another relay or backing off), locked skipping rows other claims hold. `ready`: of
 * those, the ones with no earlier unpublished event of their aggregate outside `picked` — on
 * Postgres a concurrent claim may hold (and so have skipped) an earlier event this statement's
 * snapshot still shows as free; its later events are then left for the next claim. So a claimed
 * event's earlier unpublished events are all in the same claim: no relay can publish an event of
 * an aggregate ahead of an earlier one.
 *
 * Why `EXISTS (…) IS NOT TRUE` and not `NOT EXISTS (…)`: Postgres turns a `NOT EXISTS` into an
 * anti-join, which it planned as a scan of the whole outbox per claim (minutes under load), and a
 * scalar sub-select's `IS NULL` is estimated to keep 0.5 % of the rows, which prices the claim
 * high enough to be JIT-compiled (half a second per claim). Wrapped this way, each candidate is
 * one look-up in the partial index of unpublished events by aggregate (migration 0015).
 */
const claimTexts = new WeakMap<SqlAdapter, string>();
function claimText(sql: SqlAdapter): string {
  const known = claimTexts.get(sql);
  if (known !== undefined) return known;
  const t = TABLES.outbox;
  const earlier = (row: string) =>
    `EXISTS (SELECT 1 FROM ${t} e WHERE e.aggregate_id = ${row}.aggregate_id AND e.aggregate_type = ${row}.aggregate_type AND e.seq < ${row}.seq AND e.published_at IS NULL`;
  const text = [
    "WITH picked AS (",
    `  SELECT o.seq, o.aggregate_type, o.aggregate_id FROM ${t} o`,
    "  WHERE o.published_at IS NULL AND o.available_at <= ? AND (o.locked_until IS NULL OR o.locked_until <= ?)",
    `  AND ${earlier("o")} AND (e.available_at > ? OR e.locked_until > ?)) IS NOT TRUE`,
    sql.claimableText("  ORDER BY o.seq LIMIT ?"),
    "), ready AS (",
    "  SELECT p.seq FROM picked p",
    `  WHERE ${earlier("p")} AND e.seq NOT IN (SELECT seq FROM picked)) IS NOT TRUE`,
    ")",
    `UPDATE ${t} SET locked_by = ?, locked_until = ? WHERE seq IN (SELECT seq FROM ready) RETURNING *`,
  ].join("\n");
  claimTexts.set(sql, text);
  return text;
}

export function knexOutbox(db: Knex | Knex.Transaction, sql: SqlAdapter): OutboxRepository {
  const exec = sql.exec(db);
  const leased = (ids: readonly string[], workerId: string) =>
    db(TABLES.outbox).whereIn("id", ids).where({ locked_by: workerId }).whereNull("published_at");
  return {
    async append(events, now) {
      const at = sql.time(now);
      await append(
        exec,
        events.map((e) => [e.id, e.type, e.aggregateType, e.aggregateId, sql.json(e.payload), at, at]),
      );
    },
    async claim({ workerId, limit, now, leaseUntil }) {
      const at = sql.time(now);
      const rows = await exec.all(claimText(sql), [at, at, at, at, limit, workerId, sql.time(leaseUntil)]);
      return rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map(toEvent);
    },
    async markPublished({ ids, workerId, now }) {
      if (ids.length === 0) return 0;
      return exec.count(
        leased(ids, workerId).update({
          published_at: sql.time(now),
          locked_by: null,
          locked_until: null,
        }),
      );
    },
    async release({ ids, workerId, availableAt, error }) {
      if (ids.length === 0) return 0;
      return exec.count(
        leased(ids, workerId).update({
          locked_by: null,
          locked_until: null,
          available_at: sql.time(availableAt),
          last_error: error,
          attempts: db.raw("attempts + 1"),
        }),
      );
    },
    async get(id) {
      const row = await exec.first(db(TABLES.outbox).where({ id }).first());
      return row ? toEvent(row) : null;
    },
    async listPending({ limit = 100 } = {}) {
      const rows = await exec.rows(db(TABLES.outbox).whereNull("published_at").orderBy("seq").limit(limit));
      return rows.map(toEvent);
    },
    async listByAggregate({ aggregateType, aggregateId, limit = 100, afterId }) {
      const query = db(TABLES.outbox)
        .where({ aggregate_type: aggregateType, aggregate_id: aggregateId })
        .orderBy("seq")
        .limit(limit);
      if (afterId) query.where("seq", ">", db(TABLES.outbox).select("seq").where({ id: afterId }));
      return (await exec.rows(query)).map(toEvent);
    },
  };
}
