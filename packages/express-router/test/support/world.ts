import { randomUUID } from "node:crypto";
import type { PaymentSystem, PaymentSystemOptions } from "@settlekit/core";
import { createPaymentSystem, manualClock } from "@settlekit/core";
import type { SandboxProvider } from "@settlekit/psp-sandbox";
import { sandboxProvider } from "@settlekit/psp-sandbox";
import type { KnexStore } from "@settlekit/store-knex";
import { knexStore } from "@settlekit/store-knex";
import type { Express, Request } from "express";
import express from "express";
import knexFactory, { type Knex } from "knex";
import type { PaymentsRouterOptions } from "../../src/index.js";
import { createPaymentsRouter } from "../../src/index.js";

export const PG_URL = process.env.SETTLEKIT_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export type Dialect = "sqlite" | "postgres";
export const DIALECTS: Dialect[] = ["sqlite", "postgres"];
export const WEBHOOK_SECRET = "whsec_router_tests";

/** A database of its own: SQLite in memory, or a fresh Postgres schema (dropped by `close`). */
async function openDatabase(dialect: Dialect): Promise<{ knex: Knex; drop(): Promise<void> }> {
  if (dialect === "sqlite") {
    const knex = knexFactory({
      client: "better-sqlite3",
      connection: { filename: ":memory:" },
      useNullAsDefault: true,
    });
    return { knex, drop: () => knex.destroy() };
  }
  const schema = `sk_router_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = knexFactory({ client: "pg", connection: PG_URL, pool: { min: 0, max: 1 } });
  try {
    await admin.raw("CREATE SCHEMA ??", [schema]);
  } catch (error) {
    // Never a skip: these tests fail when PostgreSQL is missing.
    throw new Error(`PostgreSQL at ${PG_URL} is required for these tests: ${String(error)}`, {
      cause: error,
    });
  } finally {
    await admin.destroy();
  }
  const knex = knexFactory({
    client: "pg",
    connection: PG_URL,
    searchPath: [schema],
    pool: { min: 0, max: 8 },
  });
  return {
    knex,
    async drop() {
      await knex.raw("DROP SCHEMA IF EXISTS ?? CASCADE", [schema]);
      await knex.destroy();
    },
  };
}

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
  const db = await openDatabase(dialect);
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
    async rowCounts() {
      const tables: string[] =
        dialect === "sqlite"
          ? (await db.knex("sqlite_master").where("type", "table").where("name", "like", "settlekit_%")).map(
              (t: { name: string }) => t.name,
            )
          : (
              await db
                .knex("information_schema.tables")
                .whereRaw("table_schema = current_schema()")
                .where("table_name", "like", "settlekit_%")
            ).map((t: { table_name: string }) => t.table_name);
      const counts: Record<string, number> = {};
      for (const table of tables.sort()) {
        const [row] = await db.knex(table).count({ n: "*" });
        counts[table] = Number(row?.n);
      }
      return counts;
    },
    async close() {
      await sandbox.close();
      await db.drop();
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
