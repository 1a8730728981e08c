// `npm run bench:http`: drives POST /v1/payments through the Express router on PostgreSQL (the
// real knex store, the in-process sandbox PSP), first at a fixed 116 req/s (10 M payments a day)
// then at saturation, and prints p50/p99 latency and throughput. Target: p99 < 25 ms at 116 req/s.
// BENCH_MODE=fetch serves the bare Fetch handler through `node:http` (`toNodeListener`) instead.
//
// Environment: SETTLEKIT_PG_URL (admin connection, a throwaway schema is created and dropped),
// BENCH_SECONDS (per measured run, default 30), BENCH_RATE (default 116), BENCH_CONNECTIONS
// (saturation run, default 32). Build first (`npm run build` at the root).

import { createServer } from "node:http";
import { createPaymentSystem } from "@settlekit/core";
import { createPaymentsRouter } from "@settlekit/express-router";
import { createPaymentsHandler, toNodeListener } from "@settlekit/express-router/fetch";
import { sandboxProvider } from "@settlekit/psp-sandbox";
import { knexStore } from "@settlekit/store-knex";
import { openTestDatabase } from "@settlekit/store-knex/testing";
import express from "express";
import { loadHttp } from "../../../bench/http-load.mjs";
import { fmt, log, machineInfo, PG_URL, percentile, positiveNumber } from "../../../bench/kit.mjs";

const SECONDS = positiveNumber("BENCH_SECONDS", 30);
const RATE = positiveNumber("BENCH_RATE", 116);
const CONNECTIONS = positiveNumber("BENCH_CONNECTIONS", 32);
const MODE = process.env.BENCH_MODE ?? "express";
if (MODE !== "express" && MODE !== "fetch") throw new Error(`BENCH_MODE is express or fetch, not ${MODE}`);
const TARGET_P99_MS = 25;

const body = {
  currency: "USD",
  method: "card",
  orders: [
    { seller_id: "S1", amount: 10_000 },
    { seller_id: "S2", amount: 2_345 },
  ],
  success_url: "https://shop.example/done",
  cancel_url: "https://shop.example/cart",
  metadata: { cart: "bench" },
};

/** One load of `POST /v1/payments` (see bench/http-load.mjs), each request with its own Idempotency-Key. */
const drive = (url, options) =>
  loadHttp({
    url,
    ...options,
    method: "POST",
    path: "/v1/payments",
    headers: { authorization: "Bearer B{n}", "idempotency-key": "{uuid}" },
    body,
  });

function summary(label, result) {
  return {
    label,
    "req/s": fmt(result.ok / result.seconds),
    "p50 ms": fmt(percentile(result.latenciesMs, 50)),
    "p99 ms": fmt(percentile(result.latenciesMs, 99)),
    "max ms": fmt(result.latenciesMs.at(-1) ?? 0),
    ok: result.ok,
    failed: result.failed,
  };
}

const database = await openTestDatabase("postgres", {
  url: PG_URL,
  poolMax: 16,
  schemaPrefix: "sk_http_bench",
});
const db = database.knex;
const sandbox = sandboxProvider({
  baseUrl: "http://localhost/sandbox",
  webhookSecret: "whsec_bench",
  autoTick: false,
});
let server;
try {
  const store = knexStore(db);
  await store.migrate();
  const system = createPaymentSystem({ store, providers: [sandbox] });
  const buyer = (authorization) => ({ buyerId: (authorization ?? "B0").replace("Bearer ", "") });
  let listener;
  if (MODE === "fetch") {
    const handler = createPaymentsHandler(system, {
      authenticate: (req) => buyer(req.headers.get("authorization")),
      rateLimit: false,
      logger: false,
    });
    listener = toNodeListener(handler);
  } else {
    listener = express();
    listener.use(
      createPaymentsRouter(system, {
        authenticate: (req) => buyer(req.get("authorization")),
        rateLimit: false,
        logger: false,
      }),
    );
  }
  server = await new Promise((resolve) => {
    const s = createServer(listener).listen(0, "127.0.0.1", () => resolve(s));
  });
  const url = `http://127.0.0.1:${server.address().port}`;
  log(`http bench (${MODE}): POST /v1/payments on PostgreSQL, ${SECONDS} s per run`, machineInfo());
  await drive(url, { mode: "paced", seconds: 3, rate: RATE }); // warm-up: JIT, pool, statement caches
  const paced = await drive(url, { mode: "paced", seconds: SECONDS, rate: RATE });
  const saturated = await drive(url, { mode: "closed", seconds: SECONDS, connections: CONNECTIONS });
  console.table([summary(`${RATE} req/s`, paced), summary(`saturation (${CONNECTIONS} conns)`, saturated)]);
  const p99 = percentile(paced.latenciesMs, 99);
  const met = p99 < TARGET_P99_MS;
  log(`target p99 < ${TARGET_P99_MS} ms at ${RATE} req/s: ${met ? "met" : "NOT met"} (p99 ${fmt(p99)} ms)`);
  const [{ n }] = await db("settlekit_payments").count({ n: "*" });
  log(`payments created: ${n}`);
  // A failed request is a bug, not a slow run: that fails the command.
  const failed = paced.failed + saturated.failed;
  if (failed > 0) {
    log(`${failed} requests failed; statuses:`, paced.statuses, saturated.statuses);
    process.exitCode = 1;
  }
} finally {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  await sandbox.close();
  await database.close();
}
