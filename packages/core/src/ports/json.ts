/** A JSON value as stored in outbox payloads, job payloads and idempotent responses. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };
