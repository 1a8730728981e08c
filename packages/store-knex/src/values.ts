/** Reading columns back: the same on both dialects (drivers differ in how they hand values over). */

export function readDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === "number" || typeof value === "bigint") return new Date(Number(value));
  if (typeof value === "string") return /^\d+$/.test(value) ? new Date(Number(value)) : new Date(value);
  throw new TypeError(`Not a timestamp: ${String(value)}`);
}

export const readDateOrNull = (value: unknown): Date | null => (value == null ? null : readDate(value));

export function readJson<T>(value: unknown): T {
  return (typeof value === "string" ? JSON.parse(value) : value) as T;
}

export const readBigInt = (value: unknown): bigint => BigInt(value as string);

/** A nullable text column as an optional field (`null` → `undefined`). */
export const readOptional = (value: unknown): string | undefined =>
  value == null ? undefined : String(value);
