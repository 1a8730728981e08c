// CPU time per request of the REST API on SQLite in memory: GET /v1/payments/:id (a 404 from the
// store) and POST /v1/payments, 8 keep-alive requests in flight, process.cpuUsage() divided by the
// count. Server and client share this process; the client is the same code for every build, so a
// difference between two builds is the server's. It loads the packages from the current directory,
// so one copy of this file measures any checkout: `cd <repo root> && node
// <this file> [express|fetch]` (fetch: the bare Fetch handler through toNodeListener).
import { Agent, createServer, request as httpRequest } from "node:http";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const req = createRequire(pathToFileURL(process.cwd() + "/packages/express-router/package.json"));
const load = async (name) => import(pathToFileURL(req.resolve(name)).href);
const { createPaymentSystem } = await load("@settlekit/core");
const { createPaymentsRouter } = await load("@settlekit/express-router");
const { sandboxProvider } = await load("@settlekit/psp-sandbox");
const { knexStore } = await load("@settlekit/store-knex");
const express = (await load("express")).default;
const knexFactory = (await load("knex")).default;
const mode = process.argv[2] ?? "express";
const knex = knexFactory({
  client: "better-sqlite3",
  connection: { filename: ":memory:" },
  useNullAsDefault: true,
});
const store = knexStore(knex);
await store.migrate();
const sandbox = sandboxProvider({ baseUrl: "http://x/sandbox", webhookSecret: "w", autoTick: false });
const system = createPaymentSystem({ store, providers: [sandbox] });
const options = { rateLimit: false, logger: false };
let listener;
if (mode === "fetch") {
  const { createPaymentsHandler, toNodeListener } = await load("@settlekit/express-router/fetch");
  listener = toNodeListener(
    createPaymentsHandler(system, {
      ...options,
      authenticate: (r) => ({ buyerId: r.headers.get("authorization") ?? "B0" }),
    }),
  );
} else {
  listener = express();
  listener.use(
    createPaymentsRouter(system, {
      ...options,
      authenticate: (r) => ({ buyerId: r.get("authorization") ?? "B0" }),
    }),
  );
}
const server = createServer(listener).listen(0, "127.0.0.1");
await new Promise((r) => server.once("listening", r));
const port = server.address().port;
const agent = new Agent({ keepAlive: true, maxSockets: 8 });
const body = JSON.stringify({
  currency: "USD",
  method: "card",
  orders: [{ seller_id: "S1", amount: 100 }],
  success_url: "https://a.test/",
  cancel_url: "https://a.test/",
});
let n = 0;
const one = (kind) =>
  new Promise((resolve, reject) => {
    const post = kind === "post";
    const r = httpRequest(
      {
        agent,
        port,
        host: "127.0.0.1",
        method: post ? "POST" : "GET",
        path: post ? "/v1/payments" : "/v1/payments/pay_missing",
        headers: {
          authorization: "B1",
          ...(post
            ? {
                "content-type": "application/json",
                "idempotency-key": `k${n++}`,
                "content-length": Buffer.byteLength(body),
              }
            : {}),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () =>
          res.statusCode < 300 || res.statusCode === 404
            ? resolve()
            : reject(new Error(String(res.statusCode))),
        );
      },
    );
    r.on("error", reject);
    r.end(post ? body : undefined);
  });
const run = async (kind, count) => {
  for (let i = 0; i < count; i += 8) await Promise.all(Array.from({ length: 8 }, () => one(kind)));
};
const out = {};
for (const kind of ["get", "post"]) {
  await run(kind, 800); // warm-up
  const cpu = process.cpuUsage();
  const t = performance.now();
  const count = kind === "get" ? 8000 : 3000;
  await run(kind, count);
  const used = process.cpuUsage(cpu);
  out[kind] = {
    cpu_us_per_req: Math.round((used.user + used.system) / count),
    wall_ms: Math.round(performance.now() - t),
  };
}
console.log(JSON.stringify({ mode, ...out }));
agent.destroy();
server.close();
await sandbox.close();
await knex.destroy();
