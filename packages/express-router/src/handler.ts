import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { PaymentSystem } from "@settlekit/core";
import { idSchema } from "@settlekit/core";
import { maskPans } from "./card-data.js";
import { ApiError, toErrorResponse } from "./errors.js";
import { checkParsedBody, parseJsonBody } from "./json-body.js";
import { routerLogger } from "./logging.js";
import type { UploadForm } from "./multipart.js";
import { isMultipart, multipartForm } from "./multipart.js";
import { openApiDocument } from "./openapi.js";
import type { PaymentsHandlerOptions, PaymentsRequest } from "./options.js";
import { parse } from "./parse.js";
import { rateLimits } from "./rate-limit.js";
import type { Route, RouteResult } from "./routes.js";
import { ROUTES } from "./routes.js";
import { pathId } from "./schemas.js";

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const REQUEST_ID = /^[\w.:-]{1,128}$/;
const JSON_TYPE = "application/json; charset=utf-8";

/** What the host may tell the handler about a request besides the `Request` itself. */
export interface HandlerContext {
  /** The client's IP, for the per-IP rate limit (e.g. `server.requestIP(req)` in Bun). */
  readonly clientIp?: string | undefined;
  /**
   * The part of the URL's path the host mounted the handler under, when it strips it from
   * `request.url` (most frameworks do not: then leave it out). It goes into `Location` headers,
   * logs and the OpenAPI document's server.
   */
  readonly basePath?: string | undefined;
  /** Whether the request came over HTTPS (default: the URL's scheme is `https:`). */
  readonly secure?: boolean | undefined;
  /**
   * The method as the client sent it, when a `Request` cannot carry it (the Fetch API forbids
   * `TRACE`, `TRACK` and `CONNECT`): answered 405 like any other method a path does not have.
   */
  readonly method?: string | undefined;
}

/** A route as the handler serves it: `GET`, `/v1/payments/:id`. */
export interface ServedRoute {
  readonly method: "GET" | "POST" | "PUT";
  readonly path: string;
}

/**
 * The settlekit REST API as a web-standard Fetch handler: `(request) => Promise<Response>`. Mount
 * it in anything that speaks `Request`/`Response` (Hono, Next.js route handlers, Bun.serve, Deno,
 * or `node:http` through `toNodeListener`).
 */
export interface PaymentsHandler {
  (request: Request, context?: HandlerContext): Promise<Response>;
  /** Every method and path it answers (besides OPTIONS, and HEAD for GET), prefix included. */
  readonly routes: readonly ServedRoute[];
}

/**
 * What an adapter (the Express router) adds to a request's context: the request its hooks get,
 * and the body, when the framework holds it rather than `request.body`.
 */
export interface AdapterContext<R> extends HandlerContext {
  /** What the hooks get, from the neutral view (params filled in once a route matched). */
  hookRequest(view: PaymentsRequest): R;
  /**
   * The body's bytes, read at most once (over the limit: throws PAYLOAD_TOO_LARGE); `undefined`
   * when a parser of the host consumed them, `parsedBody` then says what it made of them.
   */
  readBody?(): Promise<Uint8Array | undefined>;
  parsedBody?(): unknown;
  /** The body as it arrives, for upload routes (default: the `Request`'s body stream). */
  bodyStream?(): AsyncIterable<Uint8Array>;
}

/**
 * The text each `Response` of a handler was made of, so that an adapter writing it to a socket
 * (`writeResponse`) need not read it back through the body stream. Only while the body is unread.
 */
const RESPONSE_TEXT = new WeakMap<Response, string>();

/** The text `response` was made of, if a handler here made it and nobody read its body yet. */
export const responseText = (response: Response): string | undefined =>
  response.bodyUsed ? undefined : RESPONSE_TEXT.get(response);

/** Normalizes a prefix option: `"/v1"`, `"v1/"` → `/v1`; `"/"`, `""` → `` (the root). */
export const normalizePrefix = (prefix: string | undefined): string =>
  `/${(prefix ?? "/v1").replace(/^\/+|\/+$/g, "")}`.replace(/^\/$/, "");

/** A route's path as a matcher: case-insensitive, an optional trailing slash (as Express does). */
function matcher(path: string): RegExp {
  const source = path
    .split(/(:\w+)/)
    .map((part) => (part.startsWith(":") ? "([^/]+)" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}/?$`, "i");
}

/** A path parameter, percent-decoded; undecodable is a malformed request (400). */
function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new ApiError("VALIDATION_FAILED", "The request is malformed.");
  }
}

/** The query string as Express's "simple" parser gives it: a repeated key is an array. */
function queryObject(search: URLSearchParams): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of search) {
    const seen = Object.hasOwn(query, key) ? query[key] : undefined;
    if (seen === undefined) Object.defineProperty(query, key, { value, enumerable: true, writable: true });
    else query[key] = Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return query;
}

/** A body of at most `limit` bytes; a longer one is not read further (the platform drains it). */
async function readRequestBody(request: Request, limit: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new ApiError("PAYLOAD_TOO_LARGE", `The body is larger than ${limit} bytes.`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/** Content types an upload route takes its file as. */
const UPLOAD_TYPES =
  /^(?:text\/csv|text\/plain|application\/octet-stream|application\/vnd\.ms-excel)\s*(?:;|$)/i;

/**
 * An upload's bytes as they arrive, at most `limit` of them (past it: PAYLOAD_TOO_LARGE, and the
 * rest is not read). Nothing is held but the chunk in hand.
 */
async function* limitedStream(source: AsyncIterable<Uint8Array>, limit: number): AsyncGenerator<Uint8Array> {
  let size = 0;
  for await (const chunk of source) {
    size += chunk.byteLength;
    if (size > limit) throw new ApiError("PAYLOAD_TOO_LARGE", `The file is larger than ${limit} bytes.`);
    yield chunk;
  }
}

/** A `Request`'s body as an async iterable (web streams are async iterable in Node ≥ 20). */
const requestStream = (request: Request): AsyncIterable<Uint8Array> =>
  (request.body as unknown as AsyncIterable<Uint8Array> | null) ?? (async function* () {})();

/** Errors with an HTTP status of their own (a host hook's `http-errors`…) keep their status class. */
function fromHttpError(error: unknown): unknown {
  const status = (error as { status?: unknown } | null)?.status;
  if (error instanceof ApiError || typeof status !== "number" || status < 400 || status >= 500) return error;
  if (status === 413) return new ApiError("PAYLOAD_TOO_LARGE", "The body is too large.");
  if (status === 415) return new ApiError("UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.");
  return new ApiError(status === 404 ? "ROUTE_NOT_FOUND" : "VALIDATION_FAILED", "The request is malformed.");
}

/** What the pipeline answers before it becomes a `Response`. */
interface Answer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** JSON-encoded; none: an empty body. */
  readonly body?: unknown;
}

/** What the pipeline learnt about the caller, for the request log. */
interface Seen {
  buyerId?: string;
  sellerId?: string;
  errorCode?: string;
}

/**
 * The pipeline and routes, for any adapter: `hookRequest` of the context says what the hooks get.
 * {@link createPaymentsHandler} is this with the neutral view; the Express router passes `req`.
 */
export function createHandler<R>(
  system: PaymentSystem,
  options: PaymentsHandlerOptions<R>,
): {
  handle(request: Request, context: AdapterContext<R>): Promise<Response>;
  readonly prefix: string;
  readonly bodyLimit: number;
  readonly routes: readonly ServedRoute[];
} {
  const hooks = options as PaymentsHandlerOptions<unknown>;
  const prefix = normalizePrefix(options.prefix);
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  const uploadLimit = options.uploadLimit ?? 2 * 1024 ** 3;
  const uploadSpoolLimit = options.uploadSpoolLimit ?? 64 * 1024 ** 2;
  const requireHttps = options.requireHttps ?? process.env.NODE_ENV === "production";
  const hsts = options.hsts ?? { maxAge: 31_536_000, includeSubDomains: true };
  const hstsValue = hsts
    ? `max-age=${hsts.maxAge}${hsts.includeSubDomains ? "; includeSubDomains" : ""}`
    : "";
  const log = routerLogger(options.logger);
  const limits = rateLimits(options.rateLimit ?? {}, log);
  const documents = new Map<string, object>();

  const table = ROUTES.map((route) => ({ route, match: matcher(route.path) }));
  const openApiPath = matcher("/openapi.json");
  // A known path asked with another method: 405 and the methods it has (RFC 9110 §15.5.6), or
  // for OPTIONS, just those methods.
  const allowed: { match: RegExp; allow: string }[] = [];
  const methodsByPath = new Map<string, string[]>([["/openapi.json", ["GET"]]]);
  for (const route of ROUTES) {
    methodsByPath.set(route.path, [...(methodsByPath.get(route.path) ?? []), route.method.toUpperCase()]);
  }
  for (const [path, methods] of methodsByPath) {
    const allow = [...methods, ...(methods.includes("GET") ? ["HEAD"] : []), "OPTIONS"].join(", ");
    allowed.push({ match: matcher(path), allow });
  }
  const routes: ServedRoute[] = [
    { method: "GET", path: `${prefix}/openapi.json` },
    ...ROUTES.map((route) => ({
      method: route.method.toUpperCase() as ServedRoute["method"],
      path: `${prefix}${route.path}`,
    })),
  ];

  async function handle(request: Request, context: AdapterContext<R>): Promise<Response> {
    const start = performance.now();
    const url = new URL(request.url);
    const basePath = context.basePath ?? "";
    const incoming = request.headers.get("X-Request-Id");
    const requestId =
      incoming && REQUEST_ID.test(incoming) ? incoming : `req_${randomUUID().replaceAll("-", "")}`;
    const secure = context.secure ?? url.protocol === "https:";
    const seen: Seen = {};
    // Under the prefix (matched as Express matches a mount path: case-insensitively), the rest.
    const path = url.pathname;
    const lower = path.toLowerCase();
    const lowerPrefix = prefix.toLowerCase();
    const under =
      prefix === "" || lower === lowerPrefix || lower.startsWith(`${lowerPrefix}/`)
        ? path.slice(prefix.length) || "/"
        : undefined;

    const method = context.method ?? request.method;
    let answer: Answer;
    let body: string | undefined;
    try {
      if (requireHttps && !secure) throw new ApiError("HTTPS_REQUIRED", "Use HTTPS.");
      if (under === undefined) throw new ApiError("ROUTE_NOT_FOUND", "No such route.");
      answer = await dispatch(request, method, context, {
        url,
        under,
        // The prefix as the request spelt it (Express's `req.baseUrl`).
        base: `${basePath}${path.slice(0, prefix.length)}`,
        basePath,
        seen,
      });
      body = answer.body === undefined ? undefined : JSON.stringify(answer.body);
    } catch (error) {
      const failure = toErrorResponse(fromHttpError(error), requestId);
      seen.errorCode = failure.body.error.code;
      if (!failure.expected)
        log.error({ err: error, request_id: requestId, path: maskPans(under ?? path) }, "settlekit error");
      answer = failure;
      body = JSON.stringify(failure.body);
    }

    const headers = new Headers({ "X-Request-Id": requestId });
    if (secure && hsts) headers.set("Strict-Transport-Security", hstsValue);
    for (const [name, value] of Object.entries(answer.headers ?? {})) headers.set(name, value);
    if (body !== undefined) headers.set("Content-Type", JSON_TYPE);
    headers.set("Server-Timing", `app;dur=${(performance.now() - start).toFixed(1)}`);
    log.info(
      {
        request_id: requestId,
        method,
        // The path only (query strings are not logged), with anything card-like masked.
        path: maskPans(`${basePath}${path}`),
        status: answer.status,
        duration_ms: Math.round((performance.now() - start) * 10) / 10,
        ...(seen.buyerId ? { buyer_id: seen.buyerId } : {}),
        ...(seen.sellerId ? { seller_id: seen.sellerId } : {}),
        ...(seen.errorCode ? { error_code: seen.errorCode } : {}),
      },
      "settlekit request",
    );
    if (method === "HEAD") {
      // What a GET would have sent, without it (RFC 9110 §9.3.2).
      if (body !== undefined) headers.set("Content-Length", String(Buffer.byteLength(body)));
      return new Response(null, { status: answer.status, headers });
    }
    const response = new Response(body ?? null, { status: answer.status, headers });
    if (body !== undefined) RESPONSE_TEXT.set(response, body);
    return response;
  }

  interface Target {
    readonly url: URL;
    /** The path under the prefix. */
    readonly under: string;
    readonly base: string;
    readonly basePath: string;
    readonly seen: Seen;
  }

  async function dispatch(
    request: Request,
    asked: string,
    context: AdapterContext<R>,
    target: Target,
  ): Promise<Answer> {
    const method = asked === "HEAD" ? "GET" : asked;
    const ip = context.clientIp ?? "unknown";
    if (method === "GET" && openApiPath.test(target.under)) {
      if (limits) await limits.consume("ip", ip);
      const server = target.basePath || "/";
      const document = documents.get(server) ?? openApiDocument(ROUTES, prefix, server);
      documents.set(server, document);
      return { status: 200, body: document };
    }
    for (const { route, match } of table) {
      if (route.method.toUpperCase() !== method) continue;
      const found = match.exec(target.under);
      if (!found) continue;
      const names = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
      const params: Record<string, string> = {};
      for (const [i, name] of names.entries()) params[name] = decodeParam(found[i + 1]!);
      return run(route, request, asked, context, target, params);
    }
    const known = allowed.find(({ match }) => match.test(target.under));
    if (!known) throw new ApiError("ROUTE_NOT_FOUND", "No such route.");
    if (asked === "OPTIONS") return { status: 204, headers: { Allow: known.allow } };
    throw new ApiError("METHOD_NOT_ALLOWED", `${asked} is not allowed here; use ${known.allow}.`, undefined, {
      Allow: known.allow,
    });
  }

  async function run(
    route: Route,
    request: Request,
    method: string,
    context: AdapterContext<R>,
    target: Target,
    decoded: Record<string, string>,
  ): Promise<RouteResult> {
    const ip = context.clientIp ?? "unknown";
    const view: PaymentsRequest = {
      method,
      path: `${target.basePath}${target.url.pathname}`,
      headers: request.headers,
      params: decoded,
      ip: context.clientIp,
      request,
    };
    const req = context.hookRequest(view);
    if (limits && route.access !== "webhook") await limits.consume("ip", ip);
    let buyerId = "";
    if (route.access === "buyer") {
      const who = await hooks.authenticate(req);
      if (!who?.buyerId) throw new ApiError("UNAUTHENTICATED", "Sign in first.");
      buyerId = target.seen.buyerId = who.buyerId;
      if (limits) await limits.consume("buyer", buyerId);
    }
    let sellerId = "";
    if (route.access === "seller") {
      if (!hooks.authenticateSeller) throw new ApiError("FORBIDDEN", "Sellers only.");
      const who = await hooks.authenticateSeller(req);
      if (!who?.sellerId) throw new ApiError("UNAUTHENTICATED", "Sign in as a seller first.");
      sellerId = target.seen.sellerId = who.sellerId;
      if (limits) await limits.consume("seller", sellerId);
      // Another seller's namespace: refused whatever it holds, so nothing about it can be learnt.
      if (decoded.sellerId !== sellerId) throw new ApiError("FORBIDDEN", "You can act only as yourself.");
    }
    let operatorId = "";
    if (route.access === "operator") {
      const operator = await hooks.authorizeOperator?.(req);
      if (!operator) throw new ApiError("FORBIDDEN", "Operators only.");
      operatorId = typeof operator === "object" && operator.operatorId ? operator.operatorId : "operator";
    }
    if (route.access === "seller_or_operator" && !(await hooks.authorizeOperator?.(req))) {
      if (!hooks.authenticateSeller) throw new ApiError("FORBIDDEN", "Sellers and operators only.");
      const who = await hooks.authenticateSeller(req);
      if (!who?.sellerId) throw new ApiError("UNAUTHENTICATED", "Sign in as a seller first.");
      sellerId = target.seen.sellerId = who.sellerId;
      if (limits) await limits.consume("seller", sellerId);
      // Another seller's wallet or payouts: answered like a seller that does not exist.
      if (decoded.sellerId !== undefined && decoded.sellerId !== sellerId) {
        throw new ApiError("NOT_FOUND", "No such seller.", "sellerId");
      }
    }
    route.guard?.({ options: hooks });
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(decoded)) {
      // The caller's own seller id (checked above) may hold characters other ids may not.
      if (route.access === "seller" && name === "sellerId") {
        params[name] = value;
        continue;
      }
      // A seller id as sellers are named (`seller_id` of a payment order), checked above for a seller.
      if (route.access === "seller_or_operator" && name === "sellerId") {
        if (value !== sellerId && !idSchema.safeParse(value).success) {
          throw new ApiError("NOT_FOUND", "No such seller.", name);
        }
        params[name] = value;
        continue;
      }
      // Nothing with such an id can exist: answer like an unknown one.
      if (!pathId.safeParse(value).success) throw new ApiError("NOT_FOUND", `No such ${name}.`, name);
      params[name] = value;
    }
    let idempotencyKey = "";
    if (route.idempotent) {
      idempotencyKey = request.headers.get("Idempotency-Key") ?? "";
      if (!idempotencyKey) {
        throw new ApiError(
          "IDEMPOTENCY_KEY_MISSING",
          "The Idempotency-Key header is required.",
          "Idempotency-Key",
        );
      }
      if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
        throw new ApiError(
          "VALIDATION_FAILED",
          "Idempotency-Key: 1–255 printable ASCII characters.",
          "Idempotency-Key",
        );
      }
    }
    const readBody = context.readBody ?? (() => readRequestBody(request, bodyLimit));
    let raw: Uint8Array = new Uint8Array(0);
    if (route.access === "webhook") {
      const bytes = await readBody();
      if (bytes === undefined) {
        throw new ApiError(
          "RAW_BODY_UNAVAILABLE",
          "A body parser consumed the webhook before settlekit could read its exact bytes: mount the " +
            "router with app.use() on the app, or before that parser.",
        );
      }
      raw = bytes;
    }
    let body: unknown;
    if (route.body) {
      const bytes = await readBody();
      const value =
        bytes === undefined
          ? checkParsedBody(context.parsedBody?.() ?? {})
          : parseJsonBody(bytes, request.headers.get("Content-Type"));
      body = parse(route.body, value);
    }
    const query = route.query ? parse(route.query, queryObject(target.url.searchParams)) : undefined;
    let upload: AsyncIterable<Uint8Array> = (async function* () {})();
    let form: UploadForm | undefined;
    if (route.upload) {
      const type = request.headers.get("Content-Type") ?? "";
      const parts = route.upload.parts;
      if (parts && isMultipart(type)) {
        const body = limitedStream(context.bodyStream?.() ?? requestStream(request), uploadLimit);
        form = multipartForm(body, type, { parts, spoolLimit: Math.min(uploadSpoolLimit, uploadLimit) });
      } else if (!UPLOAD_TYPES.test(type)) {
        throw new ApiError(
          "UNSUPPORTED_MEDIA_TYPE",
          parts
            ? `Send the file as the body, as text/csv (or application/octet-stream), or the files as multipart/form-data (${parts.map((p) => p.name).join(", ")}).`
            : "Send the file as the body, as text/csv (or application/octet-stream).",
          "Content-Type",
        );
      } else {
        upload = limitedStream(context.bodyStream?.() ?? requestStream(request), uploadLimit);
      }
    }
    try {
      return await route.handle({
        req,
        request,
        basePath: target.base,
        system,
        buyerId,
        sellerId,
        params,
        query,
        body,
        idempotencyKey,
        rawBody: raw,
        upload,
        form,
        operatorId,
        options: hooks,
      });
    } finally {
      await form?.close();
    }
  }

  return { handle, prefix, bodyLimit, routes };
}

/**
 * The settlekit REST API as a Fetch handler, `(request: Request) => Promise<Response>`, for any
 * server or framework on the web-standard Fetch API: routes under `prefix` (default `/v1`) of the
 * request's URL path, zod validation, the OpenAPI document (`GET /v1/openapi.json`), auth hooks
 * (they get a {@link PaymentsRequest}), rate limits, Idempotency-Key, and errors as
 * `{ error: { type, code, message, param, request_id } }`. A path outside the prefix answers 404
 * `route_not_found`. Pass `{ clientIp }` as the second argument for the per-IP rate limit.
 */
export function createPaymentsHandler(
  system: PaymentSystem,
  options: PaymentsHandlerOptions,
): PaymentsHandler {
  const { handle, routes } = createHandler(system, options);
  const hookRequest = (view: PaymentsRequest) => view;
  const handler = (request: Request, context: HandlerContext = {}) =>
    handle(request, { ...context, hookRequest });
  return Object.assign(handler, { routes });
}
