import { Validator } from "@seriousme/openapi-schema-validator";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTES } from "../src/index.js";
import type { World } from "./support/world.js";
import { MODES, makeWorld } from "./support/world.js";

type Operation = {
  parameters?: { in: string; name: string }[];
  security?: Record<string, unknown[]>[];
  summary?: string;
  responses: Record<
    string,
    { headers?: Record<string, unknown>; content?: Record<string, { schema: unknown }> }
  >;
};

describe.each(MODES)("GET /v1/openapi.json over %s", (mode) => {
  let world: World;
  let doc: { openapi: string; servers: { url: string }[]; paths: Record<string, Record<string, Operation>> };
  beforeAll(async () => {
    world = await makeWorld("sqlite", { mode });
    const res = await request(world.app).get("/v1/openapi.json");
    expect(res.status).toBe(200);
    doc = res.body;
  });
  afterAll(async () => world?.close());

  it("is a valid OpenAPI 3.1 document (checked by a real validator)", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("covers every route the router serves, and nothing else", async () => {
    // The routes the handler dispatches on (not the table the document is built from), each
    // checked over HTTP to be answered by a route: not 404 route_not_found, not 405.
    const served = world.routes.map(
      (route) => `${route.method.toLowerCase()} ${route.path.replace(/:(\w+)/g, "{$1}")}`,
    );
    for (const route of world.routes) {
      const path = route.path.replace(/:(\w+)/g, "x$1");
      const res = await request(world.app)[
        route.method === "GET" ? "get" : route.method === "PUT" ? "put" : "post"
      ](path);
      expect([res.status, res.body.error?.code], `${route.method} ${path}`).not.toEqual([
        404,
        "route_not_found",
      ]);
      expect(res.status, `${route.method} ${path}`).not.toBe(405);
    }
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
    );
    expect(served.length).toBe(ROUTES.length + 1);
    expect(new Set(documented)).toEqual(new Set(served));
  });

  it("documents error bodies, path and header parameters, and response headers", () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method} ${path}`;
        for (const [status, response] of Object.entries(op.responses)) {
          expect(response.headers, where).toHaveProperty("X-Request-Id");
          if (Number(status) >= 400) {
            expect(response.content?.["application/json"]?.schema, `${where} ${status}`).toEqual({
              $ref: "#/components/schemas/Error",
            });
          }
        }
        if (Object.keys(op.responses).includes("429"))
          expect(op.responses["429"]!.headers).toHaveProperty("Retry-After");
        for (const name of [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])) {
          expect(op.parameters, where).toContainEqual(expect.objectContaining({ in: "path", name }));
        }
      }
    }
    const create = doc.paths["/v1/payments"]!.post!;
    expect(create.parameters).toContainEqual(
      expect.objectContaining({ in: "header", name: "Idempotency-Key", required: true }),
    );
    expect(Object.keys(create.responses)).toEqual(
      expect.arrayContaining(["201", "400", "401", "409", "413", "422", "429"]),
    );
    expect(create.responses["201"]!.headers).toHaveProperty("Idempotent-Replayed");
    expect(create.responses["201"]!.headers).toHaveProperty("Location");
    for (const [path, security] of [
      ["/v1/payments/{id}/refunds", "buyer"],
      ["/v1/operator/payments/{id}/refunds", "operator"],
      ["/v1/sellers/{sellerId}/payment-orders/{id}/refunds", "seller"],
    ] as const) {
      const refund = doc.paths[path]!.post!;
      expect(refund.parameters, path).toContainEqual(
        expect.objectContaining({ in: "header", name: "Idempotency-Key", required: true }),
      );
      expect(refund.security, path).toEqual([{ [security]: [] }]);
      expect(Object.keys(refund.responses), path).toEqual(
        expect.arrayContaining(["201", "403", "404", "422"]),
      );
    }
    expect(doc.paths["/v1/payments/{id}/refunds"]!.post!.summary).toMatch(/authorizeRefund/);
    // The settlement file upload: the body is the CSV itself, what it is in the query.
    const upload = doc.paths["/v1/reconciliations"]!.post! as Operation & {
      requestBody?: { content: Record<string, unknown> };
    };
    expect(upload.security).toEqual([{ operator: [] }]);
    expect(Object.keys(upload.requestBody?.content ?? {})).toEqual([
      "text/csv",
      "application/octet-stream",
      "multipart/form-data",
    ]);
    // Or one form: the settlement file (required) and the bank statement, both binary parts.
    const form = (upload.requestBody!.content["multipart/form-data"] as { schema: Record<string, unknown> })
      .schema;
    expect(form).toMatchObject({
      type: "object",
      required: ["settlement"],
      properties: {
        settlement: { type: "string", format: "binary" },
        bank: { type: "string", format: "binary" },
      },
    });
    for (const name of ["provider", "format", "period_from", "period_to", "mapping"]) {
      expect(upload.parameters).toContainEqual(expect.objectContaining({ in: "query", name }));
    }
    expect(Object.keys(upload.responses)).toEqual(
      expect.arrayContaining(["201", "400", "403", "404", "413", "415"]),
    );
    const run = doc.paths["/v1/reconciliations/{id}"]!.get!;
    expect(run.parameters).toContainEqual(expect.objectContaining({ in: "query", name: "class" }));
    expect(run.responses["200"]!.content?.["application/json"]?.schema).toEqual({
      $ref: "#/components/schemas/ReconciliationDetails",
    });
    const resolve = doc.paths["/v1/reconciliations/{id}/items/{item}/resolve"]!.post!;
    expect(Object.keys(resolve.responses)).toEqual(
      expect.arrayContaining(["200", "400", "403", "404", "409"]),
    );
    expect(doc.paths["/v1/payments/{id}/retry"]!.post!.parameters).toContainEqual(
      expect.objectContaining({ in: "header", name: "Idempotency-Key", required: true }),
    );
  });
});
