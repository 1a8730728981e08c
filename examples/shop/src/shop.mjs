// Settle Market: how a Node backend embeds settlekit. All of the settlekit wiring is in this file:
// the store, the PSP, the payment system with its notifier, delivery estimate and fees, the
// background worker, and the REST router. The pages (pages.mjs) only call `system`.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect as connectNats } from "@nats-io/transport-node";
import {
  commissionAndLogistics,
  createPaymentSystem,
  createWorker,
  inProcessPublisher,
  SettlekitError,
} from "@settlekit/core";
import { ensureStream, natsPublisher } from "@settlekit/events-nats";
import { createPaymentsRouter, serve } from "@settlekit/express-router";
import { remoteSandboxProvider, sandboxProvider } from "@settlekit/psp-sandbox";
import { squareProvider } from "@settlekit/psp-square";
import { stripeProvider } from "@settlekit/psp-stripe";
import { knexStore } from "@settlekit/store-knex";
import express from "express";
import knexFactory from "knex";
import pino from "pino";
import { SquareClient, SquareEnvironment } from "square";
import Stripe from "stripe";
import { createCarts } from "./cart.mjs";
import { estimateDelivery } from "./catalog.mjs";
import { emailOutbox } from "./emails.mjs";
import { pageRoutes } from "./pages.mjs";
import { staffAccess } from "./staff-access.mjs";

const env = process.env;

/** The buyer's identity: a random id in a cookie, set on the first visit (a demo has no login). */
const BUYER_COOKIE = /(?:^|;\s*)buyer=(b_[0-9a-f]{32})(?:;|$)/;
const buyerIdOf = (req) => BUYER_COOKIE.exec(req.get("cookie") ?? "")?.[1];
function identifyBuyer(req, res, next) {
  req.buyerId = buyerIdOf(req);
  if (!req.buyerId) {
    req.buyerId = `b_${randomUUID().replaceAll("-", "")}`;
    res.cookie("buyer", req.buyerId, { httpOnly: true, sameSite: "lax", maxAge: 365 * 86_400_000 });
  }
  next();
}

/** The database: PostgreSQL with `DATABASE_URL=postgres://…`, else a SQLite file. */
function openDatabase({ databaseUrl, sqliteFile }) {
  if (databaseUrl) return knexFactory({ client: "pg", connection: databaseUrl });
  mkdirSync(dirname(sqliteFile), { recursive: true });
  return knexFactory({
    client: "better-sqlite3",
    connection: { filename: sqliteFile },
    useNullAsDefault: true,
  });
}

/**
 * Starts the shop and resolves once it serves requests. It listens first: the sandbox PSP needs
 * the shop's public URL (for its hosted pages and for posting webhooks back), and with port 0
 * that is only known after listening.
 */
export async function startShop({
  port = Number(env.PORT ?? 3000),
  publicUrl = env.PUBLIC_URL, // e.g. https://shop.example when behind a proxy
  databaseUrl = env.DATABASE_URL,
  sqliteFile = env.SQLITE_FILE ?? fileURLToPath(new URL("../data/shop.sqlite", import.meta.url)),
  bankTransferSettleMs = Number(env.SANDBOX_SETTLE_MS ?? 15_000),
  workerIdleMs = 500,
  logger = pino({ level: env.LOG_LEVEL ?? "warn" }),
  production = env.NODE_ENV === "production",
  operatorToken = env.OPERATOR_TOKEN,
  limits = serverLimits(env),
  role = env.SHOP_ROLE,
  sandboxUrl = env.SANDBOX_URL, // a shared `settlekit-sandbox` process instead of one in this process
  sandboxWebhookSecret = env.SANDBOX_WEBHOOK_SECRET,
} = {}) {
  // `api`: the HTTP side only (run the workers as their own processes); `worker`: the worker only.
  role = shopRole({ SHOP_ROLE: role });
  const serving = role !== "worker";
  if (!serving && !publicUrl)
    throw new Error("SHOP_ROLE=worker needs PUBLIC_URL: the URL the API processes serve buyers at.");
  // Before anything listens: in production the staff side needs a credential.
  const staff = staffAccess({ production, operatorToken });
  const app = express();
  app.disable("x-powered-by");
  // The HTTP server with its DoS limits (slow headers, slow bodies, idle keep-alive, a connection
  // cap) and a graceful close() that drains the requests in flight; see serverLimits below.
  const served = serving ? await serve(app, { port, ...limits }) : undefined;
  const url = (publicUrl ?? `http://localhost:${served.port}`).replace(/\/$/, "");

  // 1. The store: the host owns the knex instance; settlekit's tables come with migrations.
  const knex = openDatabase({ databaseUrl, sqliteFile });
  const store = knexStore(knex);
  await store.migrate();
  const emails = await emailOutbox(knex);

  // 2. The PSP: Square or Stripe when its keys are set, else the in-process sandbox. The sandbox's
  // hosted page is mounted here and its webhooks come back over real HTTP to the router's endpoint.
  let sandbox;
  let psp;
  if (env.SQUARE_ACCESS_TOKEN && env.SQUARE_LOCATION_ID && env.SQUARE_WEBHOOK_SIGNATURE_KEY) {
    psp = squareProvider({
      client: new SquareClient({
        token: env.SQUARE_ACCESS_TOKEN,
        // SQUARE_BASE_URL points the client elsewhere (the shop's tests: the fake Square server).
        ...(env.SQUARE_BASE_URL
          ? { baseUrl: env.SQUARE_BASE_URL }
          : {
              environment:
                env.SQUARE_ENVIRONMENT === "production"
                  ? SquareEnvironment.Production
                  : SquareEnvironment.Sandbox,
            }),
        maxRetries: 0, // settlekit retries, under the same idempotency key
      }),
      locationId: env.SQUARE_LOCATION_ID,
      currency: env.SQUARE_CURRENCY ?? "USD", // the location's currency: Square takes no other
      webhookSignatureKey: env.SQUARE_WEBHOOK_SIGNATURE_KEY.split(","), // several during a rotation
      // Square signs the subscription's URL: exactly what is configured there.
      notificationUrl: env.SQUARE_NOTIFICATION_URL ?? `${url}/v1/webhooks/square`,
    });
  } else if (env.STRIPE_SECRET_KEY && env.STRIPE_WEBHOOK_SECRET) {
    psp = stripeProvider({
      client: new Stripe(env.STRIPE_SECRET_KEY),
      webhookSecret: env.STRIPE_WEBHOOK_SECRET.split(","), // several during a rotation
      ...(env.STRIPE_EU_BANK_TRANSFER_COUNTRY
        ? { euBankTransferCountry: env.STRIPE_EU_BANK_TRANSFER_COUNTRY }
        : {}),
    }); // webhooks: point Stripe at `${url}/v1/webhooks/stripe`
  } else if (sandboxUrl) {
    // The sandbox as its own process (`npx settlekit-sandbox --webhook-url <PUBLIC_URL>/v1/webhooks/sandbox`):
    // every API and worker process talks to the same one, as they would to a real PSP.
    if (!sandboxWebhookSecret) throw new Error("SANDBOX_URL needs SANDBOX_WEBHOOK_SECRET (the server's).");
    psp = remoteSandboxProvider({ url: sandboxUrl, webhookSecret: sandboxWebhookSecret });
  } else {
    if (!serving)
      throw new Error(
        "SHOP_ROLE=worker needs SANDBOX_URL (or Stripe/Square): an in-process sandbox is the API's.",
      );
    psp = sandbox = sandboxProvider({
      baseUrl: `${url}/sandbox`,
      webhookUrl: `${url}/v1/webhooks/sandbox`,
      webhookSecret: sandboxWebhookSecret ?? randomBytes(32).toString("hex"),
      bankTransferSettleMs,
      onError: (error) => logger.error({ err: error }, "sandbox"),
      logger: { error: (message) => logger.error(message) },
    });
    app.use("/sandbox", sandbox.handler);
  }

  // 3. The payment system. Events are relayed in process; the shop empties the part of the cart
  // a payment covers once it succeeded (or, for a bank transfer, once the buyer committed to it).
  const carts = createCarts();
  const events = inProcessPublisher();
  events.subscribe(({ type, payload }) => {
    if (type === "payment.succeeded" || type === "payment.processing")
      carts.settle(payload.buyer_id, { id: payload.payment_id, currency: payload.currency });
  });
  // With NATS_URL the events go to NATS JetStream too, for internal services (examples/analytics):
  // JetStream first, so a batch it refuses is retried whole (it drops what it already stored).
  let publisher = events;
  let nats;
  if (env.NATS_URL) {
    nats = await connectNats({ servers: env.NATS_URL, maxReconnectAttempts: -1 });
    await ensureStream(await jetstreamManager(nats));
    const toNats = natsPublisher(jetstream(nats), { stream: "SETTLEKIT_EVENTS" });
    publisher = {
      async publish(batch) {
        await toNats.publish(batch);
        await events.publish(batch);
      },
    };
  }
  const system = createPaymentSystem({
    store,
    providers: [psp],
    publisher,
    notifier: emails.notifier,
    estimateDelivery: (payment, orders) =>
      estimateDelivery(
        payment.createdAt,
        orders.map((o) => o.sellerId),
      ),
    // When a seller ships: the platform keeps 10 % and a flat logistics fee per currency.
    // The hosted page may only send buyers back to this shop (success and cancel URLs).
    allowedRedirectOrigins: [new URL(url).origin],
    fees: commissionAndLogistics({ commissionBasisPoints: 1_000, logistics: { USD: 250n, JPY: 300n } }),
    // A crashed request's key is taken over after its lease; the PSP call must end before it.
    ...(env.IDEMPOTENCY_LOCK_MS ? { idempotencyLockMs: Number(env.IDEMPOTENCY_LOCK_MS) } : {}),
    ...(env.PSP_TIMEOUT_MS ? { pspTimeoutMs: Number(env.PSP_TIMEOUT_MS) } : {}),
    logger: {
      warn: (message, details) => logger.warn(details ?? {}, message),
      error: (message, details) => logger.error(details ?? {}, message),
    },
  });

  // 4. The worker: outbox relay, jobs (emails, PSP retries), pending sweeper, recovery. One per
  // process here; it is safe to run several.
  const worker =
    role === "api"
      ? undefined
      : createWorker(system, {
          idleMs: workerIdleMs,
          onError: (error) => logger.error({ err: error }, "worker"),
        });
  worker?.start();

  // What startShop resolves with, whatever the role.
  const shop = {
    url,
    system,
    store,
    sandbox,
    role,
    /** Requests being handled now (the API server's; none in a worker-only process). */
    get inFlight() {
      return served?.inFlight ?? 0;
    },
    /**
     * Graceful shutdown (SIGTERM): no new connections, the requests in flight finish (up to
     * `SHUTDOWN_TIMEOUT_MS`), the worker finishes its job and releases the rest (same deadline),
     * then the PSP, NATS and the database pool close. `clean` is false when something was cut.
     */
    async close() {
      const http = (await served?.close()) ?? { clean: true, cut: 0 };
      const work = (await worker?.stop({ deadlineMs: limits.shutdownTimeoutMs ?? 10_000 })) ?? {
        clean: true,
        released: 0,
      };
      await sandbox?.close();
      await nats?.close();
      await knex.destroy();
      return { clean: http.clean && work.clean, requestsCut: http.cut, jobsReleased: work.released };
    },
  };
  if (!serving) return shop;

  // 5. The REST API under /v1 (payments, webhooks, operator), used by the pages' scripts.
  app.use(
    createPaymentsRouter(system, {
      authenticate: (req) => {
        const buyerId = buyerIdOf(req);
        return buyerId ? { buyerId } : null;
      },
      // Never trust the browser: the orders must be the buyer's cart at catalog prices, and the
      // PSP may only send the buyer back to this shop.
      verifyPayment(_req, payment) {
        carts.verify(payment.buyerId, payment);
        for (const param of ["success_url", "cancel_url"]) {
          if (!payment[param].startsWith(`${url}/`))
            throw new SettlekitError("VALIDATION_FAILED", `${param} must be a page of this shop.`, { param });
        }
      },
      // Staff only when a token is set (always in production); open to everyone in development.
      // A real marketplace checks a staff session here.
      // The demo has no staff accounts: an allowed caller is "operator" (what a resolved
      // reconciliation discrepancy records); a real marketplace returns `{ operatorId }`.
      authorizeOperator: (req) => staff.allows(req),
      // The demo has no seller accounts: whoever may use the staff side acts for the seller the
      // path names. A real marketplace returns the signed-in seller here.
      authenticateSeller: (req) => (staff.allows(req) ? { sellerId: req.params.sellerId } : null),
      // No authorizeRefund: refunds are the sellers' and the operator's (the pages' buttons);
      // a buyer's POST /v1/payments/:id/refunds is a 403.
      // Plain HTTP on localhost. Keep the default (on when NODE_ENV=production) behind TLS.
      requireHttps: false,
      // While SIGTERM drains the server, readiness answers 503 so the load balancer stops sending.
      draining: () => served.draining,
      logger,
    }),
  );

  // 6. The shop's own pages.
  app.use("/static", express.static(fileURLToPath(new URL("../public", import.meta.url)), { maxAge: "1h" }));
  app.use(
    identifyBuyer,
    pageRoutes({ system, store, carts, emails, url, logger, staff, pspId: psp.id, sandbox }),
  );

  return shop;
}

/**
 * `SHOP_ROLE`: `all` (default: the API and a worker in this process), `api` (no worker: run
 * workers as processes of their own, `SHOP_ROLE=worker` or `settlekit worker`) or `worker` (the
 * worker only, no HTTP server).
 */
export function shopRole(environment = env) {
  const role = environment.SHOP_ROLE || "all";
  if (!["all", "api", "worker"].includes(role))
    throw new Error(`SHOP_ROLE must be all, api or worker, not "${role}"`);
  return role;
}

/**
 * The HTTP server's limits from the environment (see README.md): the first line of defence
 * against slow or too many connections; a reverse proxy in front should be the tighter one.
 */
export function serverLimits(environment = env) {
  const ms = (name, fallback) => {
    const raw = environment[name];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a whole number, not "${raw}"`);
    return n;
  };
  return {
    headersTimeout: ms("HEADERS_TIMEOUT_MS", 10_000),
    requestTimeout: ms("REQUEST_TIMEOUT_MS", 30_000),
    keepAliveTimeout: ms("KEEP_ALIVE_TIMEOUT_MS", 5_000),
    maxConnections: ms("MAX_CONNECTIONS", 1_000),
    shutdownTimeoutMs: ms("SHUTDOWN_TIMEOUT_MS", 10_000),
    drainDelayMs: ms("DRAIN_DELAY_MS", 0),
  };
}
