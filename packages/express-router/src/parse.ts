import type { z } from "zod";
import type { ApiErrorCode } from "./errors.js";
import { ApiError } from "./errors.js";

/**
 * Parses with a schema; the first issue becomes a typed 400 naming its field. A custom issue may
 * carry its own code (`params.code`); an amount that fails is INVALID_AMOUNT.
 */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where?: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const unknownKey = issue.code === "unrecognized_keys" ? issue.keys[0]?.slice(0, 64) : undefined;
  const path = [...(where ? [where] : []), ...issue.path.map(String), ...(unknownKey ? [unknownKey] : [])];
  const param = path.join(".") || undefined;
  const custom = issue.code === "custom" ? (issue.params?.code as ApiErrorCode | undefined) : undefined;
  const code = custom ?? (path.at(-1) === "amount" ? "INVALID_AMOUNT" : "VALIDATION_FAILED");
  const message = unknownKey === undefined ? issue.message : "unknown field";
  throw new ApiError(code, param ? `${param}: ${message}` : message, param);
}
