import type { ResponseConfig, RouteConfig } from "@asteasolutions/zod-to-openapi";
import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import type { UploadPart } from "./multipart.js";
import type { Access, Route } from "./routes.js";
import { errorSchema, pathId } from "./schemas.js";

const header = (description: string, example?: string) =>
  z.string().meta({ description, ...(example ? { example } : {}) });

/** Headers on every answer. */
const commonHeaders = {
  "X-Request-Id": header("This request's id, also in error bodies and logs.", "req_0195f0c1d2e3"),
  "Server-Timing": header("Time spent in the router: `app;dur=<ms>`.", "app;dur=3.1"),
  "Strict-Transport-Security": header("HSTS, on HTTPS responses."),
};

const ERROR_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: "Invalid request: validation, JSON, card data, bad webhook signature, missing Idempotency-Key.",
  401: "Not authenticated.",
  402: "Payment declined.",
  403: "Not allowed (operator routes, another seller's id, a refund the host does not allow), or HTTPS required.",
  404: "No such payment (or not yours), order, payout, seller (or not you), job, PSP, reconciliation run or item, or route.",
  409: "Conflicts with the current state (a discrepancy resolved already…), or the Idempotency-Key is in use by a running request.",
  413: "Body larger than the limit.",
  415: "Body is not application/json (an upload: not text/csv, application/octet-stream or, where the route takes one, multipart/form-data).",
  422: "Idempotency-Key reused with a different request; refund larger than what is left.",
  429: "Rate limited; see Retry-After.",
  500: "Unexpected server error (logged with the request id).",
  503: "Temporarily unavailable (PSP or database); see Retry-After.",
};

/** Statuses any route may answer, by who may call it. */
const BASE_ERRORS: Readonly<Record<Access, readonly number[]>> = {
  buyer: [400, 401, 403, 404, 413, 415, 429, 500],
  seller: [400, 401, 403, 404, 413, 415, 429, 500],
  seller_or_operator: [400, 401, 403, 404, 413, 415, 429, 500],
  operator: [400, 403, 404, 429, 500],
  webhook: [400, 403, 404, 413, 500],
  public: [403, 429, 500],
};

/** A multipart upload's parts as the document's form schema (files: binary strings, in order). */
function formSchema(parts: readonly UploadPart[]) {
  const shape: Record<string, z.ZodType> = {};
  for (const part of parts) {
    const file = z.string().meta({ format: "binary", description: part.description });
    shape[part.name] = part.required ? file : file.optional();
  }
  return z.object(shape);
}

function errorResponse(status: number): ResponseConfig {
  return {
    description: ERROR_DESCRIPTIONS[status] ?? "Error.",
    headers: z.object({
      ...commonHeaders,
      ...(status === 429 || status === 503
        ? { "Retry-After": header("Seconds to wait before retrying.", "1") }
        : {}),
    }),
    content: { "application/json": { schema: errorSchema } },
  };
}

const openApiPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");
const pathParams = (path: string) => [...path.matchAll(/:(\w+)/g)].map((m) => m[1]!);

function routeConfig(route: Route, prefix: string): RouteConfig {
  const params = pathParams(route.path);
  const requestHeaders = route.idempotent
    ? z.object({
        "Idempotency-Key": z.string().min(1).max(255).meta({
          description:
            "Required. Same key + same body replays the stored answer (Idempotent-Replayed: true).",
        }),
      })
    : undefined;
  const statuses = [...new Set([...BASE_ERRORS[route.access], ...route.errors])].sort((a, b) => a - b);
  return {
    method: route.method,
    path: openApiPath(`${prefix}${route.path}`),
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(route.access === "buyer" ? { security: [{ buyer: [] }] } : {}),
    ...(route.access === "seller" ? { security: [{ seller: [] }] } : {}),
    ...(route.access === "operator" ? { security: [{ operator: [] }] } : {}),
    ...(route.access === "seller_or_operator" ? { security: [{ seller: [] }, { operator: [] }] } : {}),
    request: {
      ...(params.length ? { params: z.object(Object.fromEntries(params.map((p) => [p, pathId]))) } : {}),
      ...(route.query ? { query: route.query as z.ZodObject } : {}),
      ...(requestHeaders ? { headers: requestHeaders } : {}),
      ...(route.body
        ? { body: { required: true, content: { "application/json": { schema: route.body } } } }
        : {}),
      ...(route.upload
        ? {
            body: {
              required: true,
              description: route.upload.description,
              content: {
                "text/csv": { schema: z.string() },
                "application/octet-stream": { schema: z.string().meta({ format: "binary" }) },
                ...(route.upload.parts
                  ? { "multipart/form-data": { schema: formSchema(route.upload.parts) } }
                  : {}),
              },
            },
          }
        : {}),
      ...(route.access === "webhook"
        ? {
            body: {
              required: true,
              description: "The PSP's event, exactly as sent (the signature covers these bytes).",
              content: { "application/json": { schema: z.record(z.string(), z.unknown()) } },
            },
          }
        : {}),
    },
    responses: {
      [route.response.status]: {
        description: route.response.description,
        headers: z.object({
          ...commonHeaders,
          ...(route.idempotent
            ? {
                "Idempotent-Replayed": header("`true` when this is the stored answer to an earlier request."),
              }
            : {}),
          ...(route.response.status === 201 && route.path === "/payments"
            ? { Location: header("The new payment's URL.") }
            : {}),
        }),
        content: { "application/json": { schema: route.response.schema } },
      },
      ...Object.fromEntries(statuses.map((status) => [status, errorResponse(status)])),
    },
  };
}

/** The OpenAPI 3.1 document of `routes`, generated from the same zod schemas the handlers parse with. */
export function openApiDocument(routes: readonly Route[], prefix: string, serverUrl: string): object {
  const registry = new OpenAPIRegistry();
  registry.registerComponent("securitySchemes", "buyer", {
    type: "http",
    scheme: "bearer",
    description: "Whatever the host's `authenticate` hook accepts (session cookie, bearer token…).",
  });
  registry.registerComponent("securitySchemes", "seller", {
    type: "http",
    scheme: "bearer",
    description: "Whatever the host's `authenticateSeller` hook accepts; `:sellerId` must be the caller.",
  });
  registry.registerComponent("securitySchemes", "operator", {
    type: "http",
    scheme: "bearer",
    description: "Whatever the host's `authorizeOperator` hook accepts.",
  });
  for (const route of routes) registry.registerPath(routeConfig(route, prefix));
  registry.registerPath({
    method: "get",
    path: `${prefix}/openapi.json`,
    operationId: "getOpenApiDocument",
    summary: "This document",
    tags: ["meta"],
    responses: {
      200: {
        description: "OpenAPI 3.1.",
        headers: z.object(commonHeaders),
        content: { "application/json": { schema: z.record(z.string(), z.unknown()) } },
      },
      ...Object.fromEntries(BASE_ERRORS.public.map((status) => [status, errorResponse(status)])),
    },
  });
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: "3.1.0",
    info: {
      title: "settlekit payments API",
      version: "1.0.0",
      description:
        "Marketplace payments (one payment, one order per seller) through a PSP's hosted page. Money is " +
        "integer minor units; errors are `{ error: { type, code, message, param?, request_id } }`.",
    },
    servers: [{ url: serverUrl }],
  });
}
