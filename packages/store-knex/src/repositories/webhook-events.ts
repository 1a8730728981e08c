import type {
  JsonValue,
  StoredWebhookEvent,
  WebhookEventRepository,
  WebhookEventStatus,
} from "@settlekit/core";
import type { Knex } from "knex";
import type { SqlAdapter } from "../dialect.js";
import { TABLES } from "../tables.js";
import { readDate, readDateOrNull, readJson } from "../values.js";

type Row = Record<string, unknown>;

const toEvent = (row: Row): StoredWebhookEvent => ({
  pspId: String(row.psp_id),
  eventId: String(row.event_id),
  payload: readJson<JsonValue>(row.payload),
  status: row.status as WebhookEventStatus,
  attempts: Number(row.attempts),
  lastError: (row.last_error as string | null) ?? null,
  receivedAt: readDate(row.received_at),
  processedAt: readDateOrNull(row.processed_at),
});

const INSERT = `INSERT INTO ${TABLES.webhookEvents} (psp_id, event_id, payload, status, attempts, last_error, received_at, processed_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (psp_id, event_id) DO NOTHING`;

export function knexWebhookEvents(db: Knex | Knex.Transaction, sql: SqlAdapter): WebhookEventRepository {
  const exec = sql.exec(db);
  return {
    async insert(event) {
      const inserted = await exec.run(INSERT, [
        event.pspId,
        event.eventId,
        sql.json(event.payload),
        event.status,
        event.attempts,
        event.lastError,
        sql.time(event.receivedAt),
        event.processedAt ? sql.time(event.processedAt) : null,
      ]);
      return inserted === 1;
    },
    async get(pspId, eventId) {
      const row = await exec.first(
        db(TABLES.webhookEvents).where({ psp_id: pspId, event_id: eventId }).first(),
      );
      return row ? toEvent(row) : null;
    },
    async update({ pspId, eventId, status, now, error }) {
      const changed = await exec.count(
        db(TABLES.webhookEvents)
          .where({ psp_id: pspId, event_id: eventId })
          .update({
            status,
            attempts: db.raw("attempts + 1"),
            last_error: error ?? null,
            processed_at: status === "processed" ? sql.time(now) : null,
          }),
      );
      return changed === 1;
    },
    async listPending({ limit }) {
      const rows = await exec.rows(
        db(TABLES.webhookEvents).where({ status: "pending" }).orderBy("received_at").limit(limit),
      );
      return rows.map(toEvent);
    },
  };
}
