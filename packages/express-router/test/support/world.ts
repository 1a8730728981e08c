import type { PaymentSystem, PaymentSystemOptions } from "@settlekit/core";
import { createPaymentSystem, manualClock } from "@settlekit/core";
import type { SandboxProvider } from "@settlekit/psp-sandbox";
import { sandboxProvider } from "@settlekit/psp-sandbox";
import type { KnexStore } from "@settlekit/store-knex";
import { knexStore } from "@settlekit/store-knex";
import { countRows, openTestDatabase } from "@settlekit/store-knex/testing";
import type { Express, Request } from "express";
import express from "express";
import type { Knex } from "knex";
import type { PaymentsRouterOptions } from "../../src/index.js";
import { createPaymentsRouter } from "../../src/index.js";

export type Dialect = "sqlite" | "postgres";
export const DIALECTS: Dialect[] = ["sqlite", "postgres"];
export const WEBHOOK_SECRET = "whsec_router_tests";

/**
 * Test auth: `Authorization: Bearer buyer:<id>` is that buyer, `Bearer seller:<id>` that seller,
 * `Bearer operator` an operator.
 */
export const authenticate = (req: Request) => {
  const match = /^Bearer buyer:(\S+)$/.exec(req.get("Authorization") ?? "");
  return match ? { buyerId: match[1]! } : null;
};
export const authenticateSeller = (req: Request) => {
  const match = /^Bearer seller:(\S+)$/.exec(req.get("Authorization") ?? "");
  return match ? { sellerId: match[1]! } : null;
};
export const authorizeOperator = (req: Request) => req.get("Authorization") === "Bearer operator";
export const asBuyer = (id = "B1") => ({ Authorization: `Bearer buyer:${id}` });
export const asSeller = (id: string) => ({ Authorization: `Bearer seller:${id}` });
export const asOperator = { Authorization: "Bearer operator" };

export interface World {
  readonly dialect: Dialect;
  readonly knex: Knex;
  readonly store: KnexStore;
  readonly sandbox: SandboxProvider;
  readonly system: PaymentSystem;
  readonly clock: ReturnType<typeof manualClock>;
  /** The host app with the router mounted (and whatever `host` added before it). */
  readonly app: Express;
  /** What `createPaymentsRouter` returned. */
  readonly router: Express;
  /** Row count of every settlekit table. */
  rowCounts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export interface WorldOptions {
  readonly router?: Partial<PaymentsRouterOptions>;
  readonly system?: Partial<PaymentSystemOptions>;
  /** Runs on the host app before the router is mounted (global middleware…). */
  readonly host?: (app: Express) => void;
}

/** The store, the sandbox PSP (events recorded, delivered by the tests over HTTP), the system and a host app. */
export async function makeWorld(dialect: Dialect, options: WorldOptions = {}): Promise<World> {
  // A database of its own: SQLite in memory, or a fresh Postgres schema (dropped by `close`).
  const db = await openTestDatabase(dialect, { poolMax: 8, schemaPrefix: "sk_router" });
  const store = knexStore(db.knex);
  await store.migrate();
  const clock = manualClock(new Date("2026-03-01T12:00:00.000Z"));
  const sandbox = sandboxProvider({
    baseUrl: "http://shop.test/sandbox",
    webhookSecret: WEBHOOK_SECRET,
    clock,
  });
  const system = createPaymentSystem({ store, providers: [sandbox], clock, ...options.system });
  const app = express();
  options.host?.(app);
  const router = createPaymentsRouter(system, {
    authenticate,
    authenticateSeller,
    authorizeOperator,
    rateLimit: false,
    logger: false,
    ...options.router,
  });
  app.use(router);
  return {
    dialect,
    knex: db.knex,
    store,
    sandbox,
    system,
    clock,
    app,
    router,
    rowCounts: () => countRows(db.knex),
    async close() {
      await sandbox.close();
      await db.close();
    },
  };
}

/** A valid `POST /v1/payments` body for two sellers. */
export const paymentBody = (overrides: Record<string, unknown> = {}) => ({
  currency: "USD",
  method: "card",
  orders: [
    { seller_id: "S1", amount: 10_000 },
    { seller_id: "S2", amount: "2345" },
  ],
  success_url: "https://shop.test/orders/done",
  cancel_url: "https://shop.test/cart",
  metadata: { cart: "cart-1" },
  ...overrides,
});

/** The PSP reference behind a hosted page URL. */
export const referenceOf = (body: { redirect_url?: unknown }): string =>
  String(body.redirect_url).split("/pay/")[1]!;
