// One API process of the chaos run: settlekit's REST API on `serve()` (no worker: the worker
// processes run that), on the replicated Postgres through the proxy (`requirePrimary`, store
// retries through a failover), with the sandbox PSP over HTTP. SIGTERM drains and exits 0.
import { createPaymentsHandler, serve, toNodeListener } from "@settlekit/express-router/fetch";
import { knexStore, requirePrimary } from "@settlekit/store-knex";
import knexFactory from "knex";
import { chaosSystem } from "./system.mjs";

const env = process.env;
const knex = knexFactory(
  requirePrimary({
    client: "pg",
    connection: env.DATABASE_URL,
    pool: { min: 0, max: 6 },
    acquireConnectionTimeout: 5_000,
  }),
);
const store = knexStore(knex, { failoverRetryMs: 15_000 });
const system = chaosSystem(store);
let served;
const handler = createPaymentsHandler(system, {
  authenticate: (req) => {
    const buyer = req.headers.get("X-Buyer");
    return buyer ? { buyerId: buyer } : null;
  },
  authorizeOperator: (req) => req.headers.get("X-Operator") === env.OPERATOR_TOKEN,
  authenticateSeller: (req) => {
    const seller = req.headers.get("X-Seller");
    return seller ? { sellerId: seller } : null;
  },
  draining: () => served?.draining ?? false,
  rateLimit: false,
  logger: false,
  requireHttps: false,
});
served = await serve(toNodeListener(handler), {
  port: Number(env.PORT),
  host: "127.0.0.1",
  shutdownTimeoutMs: 5_000,
  onShutdown: () => knex.destroy(),
});
process.stdout.write(`chaos api listening on ${served.port}\n`);
process.once("SIGTERM", async () => process.exit((await served.close()).clean ? 0 : 1));
