import type { ErrorCode, PspFailureKind } from "@settlekit/core";
import { PspError, SettlekitError } from "@settlekit/core";

/**
 * The JSON of the sandbox server's API (`POST /api/<call>`): money stays exact (`bigint` as
 * `{"$bigint":"123"}`), times stay `Date`s (`{"$date":"…"}`), everything else is plain JSON.
 */
export function encode(value: unknown): string {
  return JSON.stringify(value, function replacer(this: Record<string, unknown>, key, current) {
    const raw = this[key];
    if (typeof raw === "bigint") return { $bigint: raw.toString() };
    if (raw instanceof Date) return { $date: raw.toISOString() };
    return current;
  });
}

export function decode(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      const keys = Object.keys(value);
      if (keys.length === 1 && typeof (value as { $bigint?: unknown }).$bigint === "string")
        return BigInt((value as { $bigint: string }).$bigint);
      if (keys.length === 1 && typeof (value as { $date?: unknown }).$date === "string")
        return new Date((value as { $date: string }).$date);
    }
    return value;
  });
}

/** An error as the server sends it: enough to throw the same `PspError` in the client. */
export interface WireError {
  readonly code: string;
  readonly message: string;
  readonly kind?: string;
  readonly pspCode?: string;
  readonly param?: string;
}

export function errorToWire(error: unknown): WireError {
  if (error instanceof PspError) {
    return {
      code: error.code,
      message: error.message,
      kind: error.kind,
      ...(error.pspCode === undefined ? {} : { pspCode: error.pspCode }),
      ...(error.param === undefined ? {} : { param: error.param }),
    };
  }
  if (error instanceof SettlekitError) {
    return {
      code: error.code,
      message: error.message,
      ...(error.param === undefined ? {} : { param: error.param }),
    };
  }
  return { code: "PSP_UNAVAILABLE", kind: "retryable", message: "Sandbox error." };
}

export function errorFromWire(wire: WireError): Error {
  const param = wire.param === undefined ? {} : { param: wire.param };
  if (wire.kind !== undefined) {
    return new PspError(wire.code as ErrorCode, wire.kind as PspFailureKind, wire.message, {
      ...(wire.pspCode === undefined ? {} : { pspCode: wire.pspCode }),
      ...param,
    });
  }
  return new SettlekitError(wire.code as ErrorCode, wire.message, param);
}
