import type { RequestListener } from "node:http";
import { createPaymentSystem } from "@settlekit/core";
import { sandboxProvider } from "@settlekit/psp-sandbox";
import { knexStore } from "@settlekit/store-knex";
import express from "express";
import knexFactory, { type Knex } from "knex";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import { createPaymentsHandler, createPaymentsRouter, toNodeListener } from "../src/index.js";
import type { Mode } from "./support/world.js";
import {
  asBuyer,
  authenticate,
  authorizeOperator,
  MODES,
  paymentBody,
  WEBHOOK_SECRET,
} from "./support/world.js";

const open: { knex: Knex; close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const { knex, close } of open.splice(0)) {
    await close();
    await knex.destroy();
  }
});

/** A host app over `knex` as the store's database, migrated or not (the setup mistakes under test). */
function hostOver(knex: Knex, mode: Mode) {
  const sandbox = sandboxProvider({ baseUrl: "http://shop.test/sandbox", webhookSecret: WEBHOOK_SECRET });
  open.push({ knex, close: () => sandbox.close() });
  const system = createPaymentSystem({ store: knexStore(knex), providers: [sandbox] });
  const options = { authenticate, authorizeOperator, rateLimit: false, logger: false } as const;
  if (mode === "fetch") return toNodeListener(createPaymentsHandler(system, options));
  const app = express();
  app.use(createPaymentsRouter(system, options));
  return app;
}

const createPayment = (app: express.Express | RequestListener) =>
  request(app).post("/v1/payments").set(asBuyer()).set("Idempotency-Key", "setup-1").send(paymentBody());

describe.each(MODES)("a store the host set up wrong over %s", (mode) => {
  it("a database that is down answers 503 store_unavailable with Retry-After, on writes and reads", async () => {
    // Nothing listens on port 1: the database server is "down".
    const app = hostOver(
      knexFactory({
        client: "pg",
        connection: "postgres://postgres@127.0.0.1:1/test",
        pool: { min: 0, max: 2 },
      }),
      mode,
    );
    for (const res of [
      await createPayment(app),
      await request(app).get("/v1/payments/pay_missing").set(asBuyer()),
      await request(app).get("/v1/operator/payments").set("Authorization", "Bearer operator"),
    ]) {
      expect(res.status, JSON.stringify(res.body)).toBe(503);
      expect(res.headers["retry-after"]).toBe("5");
      expect(res.body.error).toMatchObject({
        type: "api_error",
        code: "store_unavailable",
        message: "The database is unavailable; retry later.",
      });
    }
  });

  it("an unmigrated store answers 500 store_not_migrated saying to run store.migrate()", async () => {
    const app = hostOver(
      knexFactory({ client: "better-sqlite3", connection: { filename: ":memory:" }, useNullAsDefault: true }),
      mode,
    );
    const res = await createPayment(app);
    expect(res.status, JSON.stringify(res.body)).toBe(500);
    expect(res.body.error.code).toBe("store_not_migrated");
    expect(res.body.error.message).toMatch(/run store\.migrate\(\)/);
    const read = await request(app).get("/v1/payments/pay_missing").set(asBuyer());
    expect(read.status).toBe(500);
    expect(read.body.error.code).toBe("store_not_migrated");
  });
});
