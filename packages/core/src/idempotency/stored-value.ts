import type { JsonValue } from "../ports/json.js";

/**
 * The typed results kept on idempotency keys (a replay answers the stored result, not a fresh
 * read) go through JSON, so their `bigint`s and `Date`s are tagged: `{ "$bigint": "…" }`,
 * `{ "$date": "…" }`. Object keys that start with `$` (host metadata may) are escaped with one
 * more `$`, so no stored value can be mistaken for a tag. `undefined` fields are left out, as JSON
 * leaves them out.
 */
export function encodeStored(value: unknown): JsonValue {
  if (typeof value === "bigint") return { $bigint: value.toString() };
  if (value instanceof Date) return { $date: value.toISOString() };
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`Cannot store the number ${value}.`);
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : encodeStored(v)));
  if (typeof value === "object") {
    // fromEntries makes own properties, so a key like "__proto__" stays data.
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([key, v]) => [key.startsWith("$") ? `$${key}` : key, encodeStored(v)]),
    );
  }
  throw new TypeError(`Cannot store a ${typeof value}.`);
}

/** The value {@link encodeStored} encoded, as it was (`bigint`s and `Date`s restored). */
export function decodeStored<T>(value: JsonValue): T {
  return decode(value) as T;
}

function decode(value: JsonValue): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(decode);
  const keys = Object.keys(value);
  if (keys.length === 1 && typeof value.$bigint === "string") return BigInt(value.$bigint);
  if (keys.length === 1 && typeof value.$date === "string") return new Date(value.$date);
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [
      key.startsWith("$$") ? key.slice(1) : key,
      decode(v as JsonValue),
    ]),
  );
}
