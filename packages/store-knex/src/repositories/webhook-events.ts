import type {
  JsonValue,
  StoredWebhookEvent,
  WebhookEventRepository,
  WebhookEventStatus,
} from "@settlekit/core";
import type { Knex } from "knex";
import type { Sql } from "../dialect.js";
import { readDate, readDateOrNull, readJson } from "../dialect.js";
import { TABLES } from "../tables.js";

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

export function knexWebhookEvents(db: Knex | Knex.Transaction, sql: Sql): WebhookEventRepository {
  return {
    async insert(event) {
      const inserted = await db(TABLES.webhookEvents)
        .insert({
          psp_id: event.pspId,
          event_id: event.eventId,
          payload: sql.json(event.payload),
          status: event.status,
          attempts: event.attempts,
          last_error: event.lastError,
          received_at: sql.time(event.receivedAt),
          processed_at: event.processedAt ? sql.time(event.processedAt) : null,
        })
        .onConflict(["psp_id", "event_id"])
        .ignore()
        .returning("event_id");
      return inserted.length === 1;
    },
    async get(pspId, eventId) {
      const row = await db(TABLES.webhookEvents).where({ psp_id: pspId, event_id: eventId }).first();
      return row ? toEvent(row) : null;
    },
    async update({ pspId, eventId, status, now, error }) {
      const changed = await db(TABLES.webhookEvents)
        .where({ psp_id: pspId, event_id: eventId })
        .update({
          status,
          attempts: db.raw("attempts + 1"),
          last_error: error ?? null,
          processed_at: status === "processed" ? sql.time(now) : null,
        });
      return changed === 1;
    },
    async listPending({ limit }) {
      const rows = await db(TABLES.webhookEvents)
        .where({ status: "pending" })
        .orderBy("received_at")
        .limit(limit);
      return rows.map(toEvent);
    },
  };
}
