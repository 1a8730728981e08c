import { randomUUID } from "node:crypto";
import { isCardField, looksLikePan } from "./card-data.js";
import { ApiError } from "./errors.js";
import { AMOUNT_FORMAT } from "./schemas.js";

/** Keys that would reach `Object.prototype` if some code merged the body into an object. */
const POLLUTING = new Set(["__proto__", "constructor", "prototype"]);
const MAX_DEPTH = 32;
/** A UTF-16 surrogate without its pair: not Unicode text (Postgres refuses it). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const unstorable = (text: string) => LONE_SURROGATE.test(text) || text.includes("\u0000");

/**
 * Checks a parsed JSON value: no prototype-polluting keys, no card fields or PAN-like numbers,
 * strings — values and keys alike — that are well-formed Unicode without NUL (Postgres refuses
 * both), bounded nesting. A bad key is reported on its object's field (`metadata`), since the
 * key itself is not text that can be echoed.
 */
function inspect(value: unknown, path: string[]): void {
  const param = path.join(".") || undefined;
  if (path.length > MAX_DEPTH) throw new ApiError("INVALID_JSON", "The JSON is nested too deeply.", param);
  if (typeof value === "string") {
    if (unstorable(value)) {
      throw new ApiError(
        "VALIDATION_FAILED",
        `${param ? `${param}: s` : "S"}trings must be valid Unicode without NUL characters.`,
        param,
      );
    }
    if (looksLikePan(value)) throw cardData(param);
  } else if (typeof value === "number") {
    if (Number.isInteger(value) && looksLikePan(value.toFixed(0))) throw cardData(param);
  } else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) inspect(item, [...path, String(i)]);
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      if (unstorable(key)) {
        throw new ApiError(
          "VALIDATION_FAILED",
          `${param ? `${param}: k` : "K"}eys must be valid Unicode without NUL characters.`,
          param,
        );
      }
      const at = [...path, key];
      if (POLLUTING.has(key))
        throw new ApiError("VALIDATION_FAILED", `The key "${key}" is not allowed.`, at.join("."));
      if (isCardField(key)) throw cardData(at.join("."));
      inspect(item, at);
    }
  }
}

const cardData = (param?: string) =>
  new ApiError(
    "CARD_DATA_REJECTED",
    "Card data must never be sent to this API; the buyer enters it on the payment provider's page.",
    param,
  );

/** A JSON number token: `-?int frac? exp?` (the text already parsed, so it is well-formed). */
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
/** Written as an integer and exactly representable: what JSON.parse returns is what was sent. */
const exactInteger = (token: string) => /^-?\d+$/.test(token) && Number.isSafeInteger(Number(token));

/** Where each number token of well-formed JSON text starts and ends (strings skipped). */
function numberTokens(text: string): { start: number; end: number; token: string }[] {
  const tokens: { start: number; end: number; token: string }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      for (i++; text[i] !== '"'; i++) if (text[i] === "\\") i++;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      NUMBER.lastIndex = i;
      const token = NUMBER.exec(text)![0];
      tokens.push({ start: i, end: i + token.length, token });
      i += token.length - 1;
    }
  }
  return tokens;
}

/** The path of the first string equal to `marker`, in document order where it matters. */
function pathOf(value: unknown, marker: string, path: string[] = []): string[] | undefined {
  if (value === marker) return path;
  if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const found = pathOf(item, marker, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * Refuses JSON numbers that are not exact integers. Every number this API takes is an integer
 * (amounts in minor units), and JSON.parse silently rounds: `4250.0000000000001` and
 * `9007199254740993` would arrive as other integers than were sent. So the raw text is looked
 * at: a number must be written as an integer (no decimal point, no exponent, `1e3` included) of
 * at most 2^53 − 1. The field is found by re-parsing with the offending token as a marker string.
 */
function checkExactNumbers(text: string): void {
  const bad = numberTokens(text).find((t) => !exactInteger(t.token));
  if (!bad) return;
  const marker = `settlekit:inexact:${randomUUID()}`;
  const marked = `${text.slice(0, bad.start)}"${marker}"${text.slice(bad.end)}`;
  const path = pathOf(JSON.parse(marked), marker) ?? [];
  const param = path.join(".") || undefined;
  const at = param ? `${param}: ` : "";
  if (path.at(-1) === "amount") {
    // The amount schema's own words, so a rounded-away fraction reads like any other decimal.
    const why = /^-?\d+$/.test(bad.token)
      ? `at most ${Number.MAX_SAFE_INTEGER} minor units`
      : `amounts are ${AMOUNT_FORMAT}, not decimal numbers`;
    throw new ApiError("INVALID_AMOUNT", `${at}${why}`, param);
  }
  throw new ApiError(
    "VALIDATION_FAILED",
    `${at}${bad.token} is not an exact integer; numbers here are integers of at most ` +
      `${Number.MAX_SAFE_INTEGER}, written without decimal point or exponent.`,
    param,
  );
}

/**
 * The JSON body of an API request from its exact bytes, checked by {@link inspect}; numbers must
 * be exact integers (see {@link checkExactNumbers}). An empty body is `{}`.
 */
export function parseJsonBody(raw: Uint8Array, contentType: string | null): unknown {
  if (raw.length === 0) return {};
  if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType ?? "")) {
    throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.");
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    throw new ApiError("INVALID_JSON", "The body is not valid UTF-8.");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError("INVALID_JSON", "The body is not valid JSON.");
  }
  inspect(value, []);
  // The text too: a 19-digit PAN loses digits once parsed as a JSON number.
  if (looksLikePan(text)) throw cardData();
  checkExactNumbers(text);
  return value;
}

/**
 * A body a host's parser already turned into a value (Express's `req.body`), checked like one the
 * router parsed itself — except for exact numbers, which need the text.
 */
export function checkParsedBody(value: unknown): unknown {
  inspect(value, []);
  return value;
}
