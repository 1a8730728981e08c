import type { RequestListener } from "node:http";
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
import request from "supertest";
import { afterAll, beforeAll, expect } from "vitest";
import type {
  PaymentsHandler,
  PaymentsHandlerOptions,
  PaymentsRequest,
  PaymentsRouter,
  PaymentsRouterOptions,
  ServedRoute,
} from "../../src/index.js";
import { createPaymentsHandler, createPaymentsRouter, toNodeListener } from "../../src/index.js";

export type Dialect = "sqlite" | "postgres";
export const DIALECTS: Dialect[] = ["sqlite", "postgres"];
export const WEBHOOK_SECRET = "whsec_router_tests";
/**
 * How the API is served: the Express router mounted on a host app, or the bare Fetch handler
 * behind `node:http` (`toNodeListener`). Every suite runs over both.
 */
export type Mode = "express" | "fetch";
export const MODES: Mode[] = ["express", "fetch"];
/** Every dialect over every mode, for `describe.each(MATRIX)("… on %s over %s", (dialect, mode) => …)`. */
export const MATRIX: [Dialect, Mode][] = DIALECTS.flatMap((d) => MODES.map((m): [Dialect, Mode] => [d, m]));

/** The Authorization header from what a hook gets: Express's `req` or the handler's view. */
const authorization = (req: Request | PaymentsRequest): string =>
  (req.headers instanceof Headers
    ? req.headers.get("Authorization")
    : (req as Request).get("Authorization")) ?? "";

/**
 * Test auth: `Authorization: Bearer buyer:<id>` is that buyer, `Bearer seller:<id>` that seller,
 * `Bearer operator` an operator.
 */
export const authenticate = (req: Request | PaymentsRequest) => {
  const match = /^Bearer buyer:(\S+)$/.exec(authorization(req));
  return match ? { buyerId: match[1]! } : null;
};
export const authenticateSeller = (req: Request | PaymentsRequest) => {
  const match = /^Bearer seller:(\S+)$/.exec(authorization(req));
  return match ? { sellerId: match[1]! } : null;
};
export const authorizeOperator = (req: Request | PaymentsRequest) => authorization(req) === "Bearer operator";
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
  readonly mode: Mode;
  /**
   * What the tests send requests to: the host app with the router mounted (and whatever `host`
   * added before it), or the Fetch handler as a `node:http` listener.
   */
  readonly app: Express | RequestListener;
  /** What `createPaymentsRouter` or `createPaymentsHandler` returned. */
  readonly router: PaymentsRouter | PaymentsHandler;
  /** The routes it says it serves. */
  readonly routes: readonly ServedRoute[];
  /** Row count of every settlekit table. */
  rowCounts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export interface WorldOptions {
  /** Default `express`. */
  readonly mode?: Mode;
  /** The router's options; in `fetch` mode the hooks get a `PaymentsRequest` instead of `req`. */
  readonly router?: Partial<PaymentsRouterOptions>;
  readonly system?: Partial<PaymentSystemOptions>;
  /** Runs on the host app before the router is mounted (global middleware…; `express` mode only). */
  readonly host?: (app: Express) => void;
}

/** The store, the sandbox PSP (events recorded, delivered by the tests over HTTP), the system and a host app. */
export async function makeWorld(dialect: Dialect, options: WorldOptions = {}): Promise<World> {
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
  const { app, router } = serve(system, options);
  return {
    mode: options.mode ?? "express",
    app,
    router,
    routes: router.routes,
    dialect,
    knex: db.knex,
    store,
    sandbox,
    system,
    clock,
    rowCounts: () => countRows(db.knex),
    async close() {
      await sandbox.close();
      await db.close();
    },
  };
}

/**
 * The world of the enclosing `describe`, shared by its tests: made (`makeWorld`) before the
 * first and closed after the last. What it returns stands for that world — read it inside
 * tests and hooks, not while the suite is being collected (it is not made yet).
 */
export function suiteWorld(dialect: Dialect, options: WorldOptions = {}): World {
  let world: World | undefined;
  beforeAll(async () => {
    world = await makeWorld(dialect, options);
  });
  afterAll(async () => world?.close());
  return new Proxy({} as World, {
    get(_, key) {
      if (world === undefined)
        throw new Error("the suite's world is made in beforeAll: use it inside a test");
      return Reflect.get(world, key);
    },
  });
}

/**
 * Hands the sandbox's events that are new since the last call to the router's webhook route, over
 * HTTP as the PSP would; each must be answered 200. One per world (it counts what it delivered).
 */
export function webhookDelivery(world: World): () => Promise<void> {
  let delivered = 0;
  return async () => {
    const events = world.sandbox.events().slice(delivered);
    delivered += events.length;
    for (const event of events) {
      const res = await request(world.app)
        .post("/v1/webhooks/sandbox")
        .set(event.headers)
        .set("Content-Type", "application/json")
        .send(event.rawBody);
      expect(res.status).toBe(200);
    }
  };
}

/** The API over `system` as `options.mode` says, with the test hooks. */
function serve(system: PaymentSystem, options: WorldOptions): Pick<World, "app" | "router"> {
  const routerOptions = {
    authenticate,
    authenticateSeller,
    authorizeOperator,
    rateLimit: false,
    logger: false,
    ...options.router,
  } as const;
  if (options.mode === "fetch") {
    if (options.host || options.router?.trustProxy !== undefined) {
      throw new Error("`host` and `trustProxy` are Express's: express mode only");
    }
    // The test hooks read either kind of request; a test's own hooks do not look at it.
    const handler = createPaymentsHandler(system, routerOptions as unknown as PaymentsHandlerOptions);
    return { app: toNodeListener(handler), router: handler };
  }
  const app = express();
  options.host?.(app);
  const router = createPaymentsRouter(system, routerOptions);
  app.use(router);
  return { app, router };
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
