import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { PaymentSystem } from "@settlekit/core";
import type { Express, NextFunction, Request, Response } from "express";
import express from "express";
import { jsonBody, rawBody, readAheadOnMount } from "./body.js";
import { maskPans } from "./card-data.js";
import { ApiError, toErrorResponse } from "./errors.js";
import { routerLogger } from "./logging.js";
import { openApiDocument } from "./openapi.js";
import type { PaymentsRouterOptions } from "./options.js";
import { parse } from "./parse.js";
import { rateLimits } from "./rate-limit.js";
import type { Route } from "./routes.js";
import { ROUTES } from "./routes.js";
import { pathId } from "./schemas.js";

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Response locals the pipeline fills. */
interface Locals {
  requestId: string;
  buyerId?: string;
  sellerId?: string;
  errorCode?: string;
}
const locals = (res: Response) => res.locals as Locals;

/**
 * The settlekit REST API as an Express 5 app to mount: `app.use(createPaymentsRouter(system, {
 * authenticate }))`. Routes live under `prefix` (default `/v1`); see {@link ROUTES} and
 * `GET /v1/openapi.json`. Each handler parses with zod, calls one service of `system`, and
 * errors map to statuses through `ERROR_STATUS`.
 *
 * It is a sub-application rather than a bare `Router` so that, once mounted, it can read request
 * bodies under its prefix before the host's own body parsers (webhook signatures need the exact
 * bytes), and so that `trustProxy` can apply to it alone.
 */
export function createPaymentsRouter(system: PaymentSystem, options: PaymentsRouterOptions): Express {
  const prefix = `/${(options.prefix ?? "/v1").replace(/^\/+|\/+$/g, "")}`.replace(/^\/$/, "");
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  const requireHttps = options.requireHttps ?? process.env.NODE_ENV === "production";
  const hsts = options.hsts ?? { maxAge: 31_536_000, includeSubDomains: true };
  const limits = rateLimits(options.rateLimit ?? {});
  const log = routerLogger(options.logger);
  const documents = new Map<string, object>();

  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  if (options.trustProxy !== undefined) app.set("trust proxy", options.trustProxy);
  const fullPrefix = () => `${app.path()}${prefix}`.replace(/\/{2,}/g, "/").replace(/(.)\/$/, "$1");
  readAheadOnMount(app, (path) => path === fullPrefix() || path.startsWith(`${fullPrefix()}/`), bodyLimit);

  const api = express.Router();
  api.use((req: Request, res: Response, next: NextFunction) => {
    const start = performance.now();
    const incoming = req.get("X-Request-Id");
    const requestId =
      incoming && REQUEST_ID.test(incoming) ? incoming : `req_${randomUUID().replaceAll("-", "")}`;
    locals(res).requestId = requestId;
    res.set("X-Request-Id", requestId);
    // Server-Timing must be set before the head goes out, whoever writes it.
    const writeHead = res.writeHead;
    res.writeHead = function (this: Response, ...args: Parameters<typeof writeHead>) {
      if (!this.headersSent)
        this.setHeader("Server-Timing", `app;dur=${(performance.now() - start).toFixed(1)}`);
      return writeHead.apply(this, args);
    } as typeof writeHead;
    res.on("finish", () => {
      const { buyerId, sellerId, errorCode } = locals(res);
      log.info(
        {
          request_id: requestId,
          method: req.method,
          // The path only (query strings are not logged), with anything card-like masked.
          path: maskPans(req.originalUrl.split("?")[0] ?? ""),
          status: res.statusCode,
          duration_ms: Math.round((performance.now() - start) * 10) / 10,
          ...(buyerId ? { buyer_id: buyerId } : {}),
          ...(sellerId ? { seller_id: sellerId } : {}),
          ...(errorCode ? { error_code: errorCode } : {}),
        },
        "settlekit request",
      );
    });
    if (req.secure && hsts) {
      res.set(
        "Strict-Transport-Security",
        `max-age=${hsts.maxAge}${hsts.includeSubDomains ? "; includeSubDomains" : ""}`,
      );
    }
    if (requireHttps && !req.secure) throw new ApiError("HTTPS_REQUIRED", "Use HTTPS.");
    next();
  });

  api.get("/openapi.json", async (req, res) => {
    if (limits) await limits.consume("ip", clientIp(req));
    const server = req.baseUrl.slice(0, req.baseUrl.length - prefix.length) || "/";
    const document = documents.get(server) ?? openApiDocument(ROUTES, prefix, server);
    documents.set(server, document);
    res.json(document);
  });

  for (const route of ROUTES) {
    api[route.method](route.path, async (req: Request, res: Response) => {
      const result = await run(route, req, res);
      res
        .status(result.status)
        .set(result.headers ?? {})
        .json(result.body);
    });
  }

  // A known path asked with another method: 405 and the methods it has (RFC 9110 §15.5.6), or
  // for OPTIONS, just those methods. Registered after the routes, so only the others get here.
  const methodsByPath = new Map<string, string[]>([["/openapi.json", ["GET"]]]);
  for (const route of ROUTES) {
    methodsByPath.set(route.path, [...(methodsByPath.get(route.path) ?? []), route.method.toUpperCase()]);
  }
  for (const [path, methods] of methodsByPath) {
    const allow = [...methods, ...(methods.includes("GET") ? ["HEAD"] : []), "OPTIONS"].join(", ");
    api.all(path, (req: Request, res: Response) => {
      if (req.method === "OPTIONS") {
        res.status(204).set("Allow", allow).end();
        return;
      }
      throw new ApiError(
        "METHOD_NOT_ALLOWED",
        `${req.method} is not allowed here; use ${allow}.`,
        undefined,
        {
          Allow: allow,
        },
      );
    });
  }

  async function run(route: Route, req: Request, res: Response) {
    if (limits && route.access !== "webhook") await limits.consume("ip", clientIp(req));
    let buyerId = "";
    if (route.access === "buyer") {
      const who = await options.authenticate(req);
      if (!who?.buyerId) throw new ApiError("UNAUTHENTICATED", "Sign in first.");
      buyerId = locals(res).buyerId = who.buyerId;
      if (limits) await limits.consume("buyer", buyerId);
    }
    let sellerId = "";
    if (route.access === "seller") {
      if (!options.authenticateSeller) throw new ApiError("FORBIDDEN", "Sellers only.");
      const who = await options.authenticateSeller(req);
      if (!who?.sellerId) throw new ApiError("UNAUTHENTICATED", "Sign in as a seller first.");
      sellerId = locals(res).sellerId = who.sellerId;
      if (limits) await limits.consume("seller", sellerId);
      // Another seller's namespace: refused whatever it holds, so nothing about it can be learnt.
      if (req.params.sellerId !== sellerId) throw new ApiError("FORBIDDEN", "You can act only as yourself.");
    }
    if (route.access === "operator" && !(await options.authorizeOperator?.(req))) {
      throw new ApiError("FORBIDDEN", "Operators only.");
    }
    route.guard?.({ options });
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.params as Record<string, string>)) {
      // The caller's own seller id (checked above) may hold characters other ids may not.
      if (route.access === "seller" && name === "sellerId") {
        params[name] = value;
        continue;
      }
      // Nothing with such an id can exist: answer like an unknown one.
      if (!pathId.safeParse(value).success) throw new ApiError("NOT_FOUND", `No such ${name}.`, name);
      params[name] = value;
    }
    let idempotencyKey = "";
    if (route.idempotent) {
      idempotencyKey = req.get("Idempotency-Key") ?? "";
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
    let raw: Buffer = Buffer.alloc(0);
    if (route.access === "webhook") {
      const bytes = await rawBody(req, bodyLimit);
      if (bytes === undefined) {
        throw new ApiError(
          "RAW_BODY_UNAVAILABLE",
          "A body parser consumed the webhook before settlekit could read its exact bytes: mount the " +
            "router with app.use() on the app, or before that parser.",
        );
      }
      raw = bytes;
    }
    const body = route.body ? parse(route.body, await jsonBody(req, bodyLimit)) : undefined;
    const query = route.query ? parse(route.query, { ...(req.query as object) }) : undefined;
    return route.handle({
      req,
      system,
      buyerId,
      sellerId,
      params,
      query,
      body,
      idempotencyKey,
      rawBody: raw,
      options,
    });
  }

  api.use(() => {
    throw new ApiError("ROUTE_NOT_FOUND", "No such route.");
  });
  api.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const requestId = locals(res).requestId ?? `req_${randomUUID().replaceAll("-", "")}`;
    const answer = toErrorResponse(fromExpress(error), requestId);
    locals(res).errorCode = answer.body.error.code;
    if (!answer.expected)
      log.error({ err: error, request_id: requestId, path: maskPans(req.path) }, "settlekit error");
    if (res.headersSent) return;
    res.status(answer.status).set(answer.headers).json(answer.body);
  });
  app.use(prefix || "/", api);
  return app;
}

const clientIp = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? "unknown";

/** Express's own 4xx errors (an undecodable path parameter…) keep their status class. */
function fromExpress(error: unknown): unknown {
  const status = (error as { status?: unknown } | null)?.status;
  if (error instanceof ApiError || typeof status !== "number" || status < 400 || status >= 500) return error;
  if (status === 413) return new ApiError("PAYLOAD_TOO_LARGE", "The body is too large.");
  if (status === 415) return new ApiError("UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.");
  return new ApiError(status === 404 ? "ROUTE_NOT_FOUND" : "VALIDATION_FAILED", "The request is malformed.");
}
