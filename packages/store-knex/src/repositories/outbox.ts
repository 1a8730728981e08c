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
      const candidates = db(TABLES.outbox)
        .select("seq")
        .whereNull("published_at")
        .where("available_at", "<=", sql.time(now))
        .where((q) => q.whereNull("locked_until").orWhere("locked_until", "<=", sql.time(now)))
        .orderBy("seq")
        .limit(limit);
      const rows = await exec.rows(
        db(TABLES.outbox)
          .whereIn("seq", sql.claimable(candidates))
          .update({ locked_by: workerId, locked_until: sql.time(leaseUntil) })
          .returning("*"),
      );
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
