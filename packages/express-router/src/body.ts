import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Application, Express } from "express";
import { isCardField, looksLikePan } from "./card-data.js";
import { ApiError } from "./errors.js";
import { AMOUNT_FORMAT } from "./schemas.js";

/** Where a body read ahead of the host's parsers is kept on the request. */
const RAW = Symbol.for("settlekit.express-router.rawBody");
const HOOKED = Symbol.for("settlekit.express-router.hooked");

type Raw = Buffer | "too_large";
type WithRaw = IncomingMessage & { [RAW]?: Raw; body?: unknown };

const hasBody = (req: IncomingMessage): boolean =>
  req.headers["transfer-encoding"] !== undefined ||
  (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0");

/** Reads the whole body, up to `limit` bytes; a longer one is drained and reported as too large. */
function readRaw(req: IncomingMessage, limit: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > limit ? "too_large" : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/**
 * The request body's bytes, read at most once. Either they were read ahead (see
 * {@link readAheadOnMount}), or the stream is still unread and is read now. When a body parser
 * of the host consumed them first, `undefined`: the caller falls back to the parsed `req.body`.
 */
export async function rawBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const request = req as WithRaw;
  if (request[RAW] === undefined && !req.readableEnded && hasBody(req)) {
    request[RAW] = await readRaw(req, limit);
  }
  const raw = request[RAW];
  if (raw === "too_large") throw new ApiError("PAYLOAD_TOO_LARGE", `The body is larger than ${limit} bytes.`);
  if (raw !== undefined) return raw;
  return hasBody(req) ? undefined : Buffer.alloc(0);
}

/**
 * Makes webhooks (which need the exact bytes) and the API's own parsing independent of mount
 * order: when the router is mounted with `app.use(...)`, the parent app's `handle` is wrapped so
 * that bodies of requests under the router's path are read before ANY of the host's middleware
 * (a global `express.json()` then finds the stream finished and leaves it alone).
 */
export function readAheadOnMount(router: Express, ownsPath: (path: string) => boolean, limit: number): void {
  type Handle = (req: WithRaw, res: unknown, next: unknown) => void;
  // `handle` is what an Express app runs for each request (`app(req, res)` calls it); untyped.
  router.on("mount", (parent: Application & { handle?: Handle; [HOOKED]?: boolean }) => {
    const handle = parent.handle?.bind(parent);
    if (!handle || parent[HOOKED]) return;
    parent[HOOKED] = true;
    parent.handle = (req, res, next) => {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      if (req.method !== "POST" || req[RAW] !== undefined || !hasBody(req) || !ownsPath(path)) {
        return handle(req, res, next);
      }
      readRaw(req, limit).then(
        (raw) => {
          req[RAW] = raw;
          handle(req, res, next);
        },
        // A broken upload: let the host's stack see the stream as it is.
        () => handle(req, res, next),
      );
    };
  });
}

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
 * The JSON body of an API request, checked by {@link inspect}; numbers must be exact integers
 * (see {@link checkExactNumbers}: only where the router read the bytes itself). An empty body is `{}`. Bodies a
 * host parser already turned into `req.body` are checked the same way.
 */
export async function jsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const raw = await rawBody(req, limit);
  let value: unknown;
  if (raw === undefined) {
    value = (req as WithRaw).body ?? {};
  } else {
    if (raw.length === 0) return {};
    const type = req.headers["content-type"] ?? "";
    if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
      throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.");
    }
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
    } catch {
      throw new ApiError("INVALID_JSON", "The body is not valid UTF-8.");
    }
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
  inspect(value, []);
  return value;
}
