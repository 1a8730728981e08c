import type { RequestListener } from "node:http";
import { get as httpGet } from "node:http";
import type { Store } from "@settlekit/core";
import { createPaymentSystem } from "@settlekit/core";
import { memoryStore } from "@settlekit/core/testing";
import { sandboxProvider } from "@settlekit/psp-sandbox";
import { knexStore } from "@settlekit/store-knex";
import { openTestDatabase } from "@settlekit/store-knex/testing";
import express from "express";
import knexFactory from "knex";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import {
  createPaymentsHandler,
  createPaymentsRouter,
  openApiDocument,
  ROUTES,
  type Served,
  serve,
  toNodeListener,
} from "../src/index.js";
import type { Mode } from "./support/world.js";
import { authenticate, MODES, WEBHOOK_SECRET } from "./support/world.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function hostOver(
  store: Store,
  mode: Mode,
  extra: { draining?: () => boolean } = {},
): express.Express | RequestListener {
  const sandbox = sandboxProvider({ baseUrl: "http://shop.test/sandbox", webhookSecret: WEBHOOK_SECRET });
  closers.push(() => sandbox.close());
  const system = createPaymentSystem({ store, providers: [sandbox] });
  const options = { authenticate, rateLimit: false, logger: false, ...extra } as const;
  if (mode === "fetch") return toNodeListener(createPaymentsHandler(system, options));
  const app = express();
  app.use(createPaymentsRouter(system, options));
  return app;
}

describe.each(MODES)("health probes over %s", (mode) => {
  it("liveness answers 200 without touching the database, even when it is down", async () => {
    const down = knexFactory({
      client: "pg",
      connection: "postgres://postgres@127.0.0.1:1/test",
      pool: { min: 0, max: 1 },
    });
    closers.push(() => down.destroy());
    const app = hostOver(knexStore(down), mode);
    const res = await request(app).get("/v1/health");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
    expect(res.headers["cache-control"]).toBe("no-store");
  });

  it("readiness is 200 with the store's report on a writable Postgres, with replication as the primary sees it", async () => {
    const db = await openTestDatabase("postgres", { schemaPrefix: "sk_health" });
    closers.push(() => db.close());
    const store = knexStore(db.knex);
    await store.migrate();
    const res = await request(hostOver(store, mode)).get("/v1/health/ready");
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ status: "ready", store: { reachable: true, writable: true } });
    expect(res.body.store.latency_ms).toBeGreaterThanOrEqual(0);
    // The machine's server has no standby: a report with none (not null: it is a primary).
    expect(res.body.store.replication).toMatchObject({ standbys: 0, synchronous: 0 });
  });

  it("readiness is 503 store_unavailable with Retry-After when the database is down, within the health timeout", async () => {
    const down = knexFactory({
      client: "pg",
      connection: "postgres://postgres@127.0.0.1:1/test",
      pool: { min: 0, max: 1 },
    });
    closers.push(() => down.destroy());
    const res = await request(hostOver(knexStore(down, { healthTimeoutMs: 1_000 }), mode)).get(
      "/v1/health/ready",
    );
    expect(res.status).toBe(503);
    expect(res.headers["retry-after"]).toBe("5");
    expect(res.body.error).toMatchObject({ type: "api_error", code: "store_unavailable" });
    expect(res.body.error.message).toMatch(/cannot be reached/);
  });

  it("readiness is 503 when the store is reachable but not writable (a standby), and 200 on the memory store", async () => {
    const memory = memoryStore();
    const standby: Store = {
      ...memory,
      health: async () => ({
        reachable: true,
        writable: false,
        latencyMs: 1,
        replication: null,
        reason: "the server is a standby (in recovery)",
      }),
    };
    const res = await request(hostOver(standby, mode)).get("/v1/health/ready");
    expect(res.status).toBe(503);
    expect(res.body.error.message).toMatch(/does not take writes/);
    const ok = await request(hostOver(memory, mode)).get("/v1/health/ready");
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({
      status: "ready",
      store: { reachable: true, writable: true, latency_ms: 0, replication: null },
    });
  });
});

/** One GET on a connection of its own (a balancer's probe): status, Retry-After, body. */
function probe(port: number, path: string): Promise<{ status: number; retryAfter?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          ...(res.headers["retry-after"] ? { retryAfter: String(res.headers["retry-after"]) } : {}),
          body,
        }),
      );
    });
    req.on("error", reject);
  });
}

describe.each(MODES)("readiness while serve() drains, over %s", (mode) => {
  it("answers 503 shutting_down with Retry-After from the moment close() begins, while liveness stays 200", async () => {
    let served: Served | undefined;
    const listener = hostOver(memoryStore(), mode, { draining: () => served?.draining ?? false });
    // The drain delay keeps the server listening after close(): what a load balancer polls then.
    served = await serve(listener as RequestListener, { port: 0, host: "127.0.0.1", drainDelayMs: 5_000 });
    expect((await probe(served.port, "/v1/health/ready")).status).toBe(200);
    const closing = served.close();
    const ready = await probe(served.port, "/v1/health/ready");
    expect(ready.status).toBe(503);
    expect(ready.retryAfter).toMatch(/^\d+$/);
    expect(JSON.parse(ready.body).error.code).toBe("shutting_down");
    expect((await probe(served.port, "/v1/health")).status).toBe(200);
    expect(await closing).toEqual({ clean: true, cut: 0 });
  });
});

describe("health probes in the OpenAPI document", () => {
  it("documents liveness and readiness, readiness with its 503", () => {
    const doc = openApiDocument(ROUTES, "/v1", "/") as {
      paths: Record<string, { get?: { operationId: string; responses: Record<string, unknown> } }>;
    };
    expect(doc.paths["/v1/health"]?.get?.operationId).toBe("getLiveness");
    expect(doc.paths["/v1/health/ready"]?.get?.operationId).toBe("getReadiness");
    expect(Object.keys(doc.paths["/v1/health/ready"]!.get!.responses)).toEqual(
      expect.arrayContaining(["200", "503"]),
    );
  });
});
