import { EVENT_TYPES, eventSchemaFor } from "@settlekit/core";
import type { KnexStore } from "@settlekit/store-knex";
import type { ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import { Ajv2020 } from "ajv/dist/2020.js";

/** A real JSON Schema 2020-12 validator over core's event schemas (strict: a bad schema throws). */
const ajv = new Ajv2020({ strict: true, allErrors: true });
const validators = new Map<string, ValidateFunction>(
  EVENT_TYPES.map((type) => [type, ajv.compile(eventSchemaFor(type)!)]),
);

/** Why the payload is not a valid `type` event: `[]` when it is. A type without a schema is an error. */
export function eventSchemaErrors(type: string, payload: unknown): string[] {
  const validate = validators.get(type);
  if (!validate) return [`no JSON Schema for the event type "${type}"`];
  if (validate(payload)) return [];
  return (validate.errors ?? []).map(
    (e: ErrorObject) => `${e.instancePath || "/"} ${e.message ?? ""} ${JSON.stringify(e.params)}`,
  );
}

/** Every event in the store's outbox (published or not), in append order. */
export async function outboxEventsOf(store: KnexStore): Promise<{ type: string; payload: unknown }[]> {
  const rows = await store.knex("settlekit_outbox").select("id", "type", "payload").orderBy("seq");
  return rows.map((row: { type: string; payload: unknown }) => ({
    type: row.type,
    payload: typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload,
  }));
}

/**
 * Throws when any event of the outbox does not match its type's schema: run by every world's
 * `close`, so every suite on {@link makeHostWorld} validates every event it produced.
 */
export async function assertOutboxMatchesSchemas(store: KnexStore): Promise<string[]> {
  const events = await outboxEventsOf(store);
  const problems = events.flatMap((event) =>
    eventSchemaErrors(event.type, event.payload).map((error) => `${event.type}: ${error}`),
  );
  if (problems.length > 0) {
    throw new Error(`Outbox events do not match their JSON Schemas:\n${[...new Set(problems)].join("\n")}`);
  }
  return events.map((event) => event.type);
}
