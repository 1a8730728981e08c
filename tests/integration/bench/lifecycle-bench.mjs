// Cash-in lifecycle benchmark: `npm run bench:lifecycle` (builds first, then runs this file).
//
// C concurrent buyers each loop over one whole lifecycle, wired as a host would wire the product:
//   createPayment (two sellers, card, a fresh idempotency key, a random buyer)
//   → sandbox.pay(pspReference, 4242 card) (the hosted page's form submission)
//   → the sandbox's signed webhook, POSTed through an injected `fetch` to the real
//     `system.handleWebhook("sandbox", { rawBody, headers })` (signature verified), which moves the
//     payment to `succeeded` and posts the ledger journal
//   → the lifecycle counts as completed when that webhook call for this payment has returned.
// Real system clock and the sandbox's real timers; no worker runs (outbox events and notification
// jobs are written, not relayed). On PostgreSQL (own database, created and dropped) and on a SQLite
// file; when `pgbench` is on the PATH, TPC-B (scale 10, C clients, same duration) on the same
// server afterwards, and `lifecycles_per_s / pgbench_tps`; then pgbench running one lifecycle's
// own SQL (lifecycle.pgbench.sql, C clients, -M prepared), which says how many lifecycles/s the
// database alone allows on this machine — the ceiling of that ratio for this SQL — and on the same
// work written as one statement per phase (lifecycle-lean.pgbench.sql, a what-if); and the bound
// the machine's CPU puts on the ratio (machine CPU per TPC-B transaction ÷ per lifecycle).
//
// Environment:
//   SETTLEKIT_PG_URL        admin connection (default postgres://postgres@127.0.0.1:5432/test); the
//                           benchmark creates and drops its own databases on that server
//   BENCH_CONCURRENCY       concurrent buyer loops (default 8)
//   BENCH_SECONDS           measured seconds per run (default 10)
//   BENCH_WARMUP_SECONDS    warm-up seconds before each measured run (default 2)
//   BENCH_STORES            which runs, comma-separated (default postgres,sqlite,sqlite-normal)
//   BENCH_PGBENCH           0 to skip pgbench (default 1)
//   BENCH_PGBENCH_PREPARED  0 to skip the extra `pgbench -M prepared` run (default 1)
//   BENCH_PGBENCH_LEAN      0 to skip pgbench on lifecycle-lean.pgbench.sql (default 1)
//   BENCH_STATEMENTS        0 to skip counting SQL statements on one probe lifecycle (default 1)
//   BENCH_WEBHOOK_CONCURRENCY  webhook POSTs the sandbox keeps in flight at once (its
//                           `webhookConcurrency`; default BENCH_CONCURRENCY: a real PSP delivers
//                           concurrently; 1 delivers one at a time, in order)
//   BENCH_SANDBOXES         sandbox instances, each with its own payment system over the same store
//                           (default 1, as a host wires it; buyer b uses sandbox b mod N)
//   PGBENCH                 pgbench executable (default `pgbench` from the PATH)
// (The shared options are read in bench/kit.mjs at the repository root.)
//
// Exits non-zero only on a correctness failure (a lifecycle that failed, a payment not
// `succeeded`, journal or payment counts that disagree, a trial balance that is not zero) or when
// a store cannot be benchmarked at all; missed throughput targets are reported, not fatal.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createPaymentSystem } from "@settlekit/core";
import { sandboxProvider } from "@settlekit/psp-sandbox";
import { knexStore, TABLES } from "@settlekit/store-knex";
import { backendTicks, costSince, meter, walBytesPerUnit, walLsn } from "../../../bench/cost-meter.mjs";
import {
  benchPostgresAndPgbench,
  benchResult,
  checkedSqliteRun,
  errorText,
  finish,
  fmt,
  gc,
  latencySummary,
  loadWindow,
  log,
  PG_IS_LOCAL,
  PG_URL,
  PGBENCH,
  parsePgbench,
  pgbenchArgs,
  pgbenchAvailable,
  pgKnex,
  positiveNumber,
  printCost,
  printTargets,
  pushPgbenchRows,
  recordError,
  round,
  SECONDS,
  setTargets,
  settleDisk,
  sqlitePragmas,
  storeHeader,
  storeRow,
  table,
  WARMUP_SECONDS,
  withPgDatabase,
  withSqlite,
  withTempDir,
} from "../../../bench/kit.mjs";

const require = createRequire(import.meta.url);

const CONCURRENCY = Math.floor(positiveNumber("BENCH_CONCURRENCY", 8));
const STORES = (process.env.BENCH_STORES || "postgres,sqlite,sqlite-normal").split(",").map((s) => s.trim());
const RUN_PGBENCH = process.env.BENCH_PGBENCH !== "0";
const COUNT_STATEMENTS = process.env.BENCH_STATEMENTS !== "0";
const SANDBOXES = Math.floor(positiveNumber("BENCH_SANDBOXES", 1));
const WEBHOOK_CONCURRENCY = Math.floor(positiveNumber("BENCH_WEBHOOK_CONCURRENCY", CONCURRENCY));
/** Webhook handler calls that can run at once, over all sandboxes. */
const WEBHOOK_SLOTS = SANDBOXES * WEBHOOK_CONCURRENCY;
const SELLERS = 1000;
const BUYERS = 10_000;
const CURRENCY = "USD";
const CARD = "4242 4242 4242 4242";
const BENCH_DB = "settlekit_bench_lifecycle";
const PGBENCH_DB = "settlekit_pgbench_lifecycle";
const PGBENCH_SQL_DB = "settlekit_pgbench_lifecycle_sql";
/** One lifecycle's SQL as the Postgres store sends it, for pgbench (see the file's header). */
const LIFECYCLE_SQL = fileURLToPath(new URL("./lifecycle.pgbench.sql", import.meta.url));
/** The same work as one data-modifying statement per phase: a what-if ceiling (see the file). */
const LEAN_SQL = fileURLToPath(new URL("./lifecycle-lean.pgbench.sql", import.meta.url));
const RUN_LEAN_SQL = process.env.BENCH_PGBENCH_LEAN !== "0";
const execFileAsync = promisify(execFile);
/** Throughput and targets: lifecycles/s ≥ 0.35 × pgbench TPC-B tps; SQLite ≥ 1000 lifecycles/s. */
const TARGETS = {
  rateKey: "lifecyclesPerSecond",
  unit: "lifecycles/s",
  ratioName: "lifecycles_per_s",
  minRatio: 0.35,
  minSqlite: 1000,
  otherSqlite: { sqliteNormal: "NORMAL" },
};
/** A lifecycle whose webhook has not been handled after this long counts as failed. */
const LIFECYCLE_TIMEOUT_MS = 30_000;
const WEBHOOK_SECRET = `whsec_bench_${randomBytes(8).toString("hex")}`;
/** pg CPU in the lifecycle cost lines is the whole server's (pgbench's too); see `printCost`. */
const SERVER_LABEL = "postgres (whole server)";

const randomInt = (min, max) => min + Math.floor(Math.random() * (max - min + 1));

// ---------------------------------------------------------------------------------------------
// The product, wired as a host would wire it

/**
 * Store, sandbox PSP and payment system over `knex` (`SANDBOXES` sandbox + system pairs, "lanes",
 * over the one store). Each sandbox POSTs its signed webhooks through an in-process `fetch` to its
 * system's `handleWebhook`; `waitForWebhook(paymentId)` resolves when the webhook for that payment
 * has been handled (answered 200).
 */
async function makeWorld(knex, storeOptions = {}) {
  const store = knexStore(knex, storeOptions);
  await store.migrate();
  const waiters = new Map(); // paymentId → { resolve, reject, since }
  const webhook = {
    handled: 0,
    failed: 0,
    duplicates: 0,
    deferred: 0,
    busyMs: 0, // time spent inside handleWebhook, summed over the concurrent deliveries
    handleMs: [],
    errors: [],
  };
  const lane = () => {
    let system;
    const sandbox = sandboxProvider({
      baseUrl: "http://shop.bench/sandbox",
      webhookUrl: "http://shop.bench/webhooks/sandbox",
      webhookSecret: WEBHOOK_SECRET,
      webhookConcurrency: WEBHOOK_CONCURRENCY,
      // The real clock and real timers (autoTick), as in production.
      fetch: async (_url, init) => {
        const rawBody = String(init?.body ?? "");
        const headers = Object.fromEntries(new Headers(init?.headers).entries());
        const begun = performance.now();
        try {
          const result = await system.handleWebhook("sandbox", { rawBody, headers });
          const took = performance.now() - begun;
          webhook.busyMs += took;
          webhook.handleMs.push(took);
          webhook.handled++;
          webhook.duplicates += result.duplicates;
          webhook.deferred += result.deferred;
          const paymentId = JSON.parse(rawBody)?.data?.payment?.payment_id;
          const waiter = waiters.get(paymentId);
          if (waiter) {
            waiters.delete(paymentId);
            if (result.received === 1 && result.duplicates === 0 && result.deferred === 0) waiter.resolve();
            else waiter.reject(new Error(`webhook for ${paymentId}: ${JSON.stringify(result)}`));
          }
          return new Response("{}", { status: 200 });
        } catch (error) {
          webhook.busyMs += performance.now() - begun;
          webhook.failed++;
          if (webhook.errors.length < 20) webhook.errors.push(errorText(error));
          const status = error?.code === "WEBHOOK_SIGNATURE_INVALID" ? 400 : 500;
          return new Response("{}", { status }); // the sandbox retries (real timers)
        }
      },
      onError: (error) => {
        if (webhook.errors.length < 20) webhook.errors.push(`sandbox: ${errorText(error)}`);
      },
    });
    system = createPaymentSystem({ store, providers: [sandbox] });
    return { sandbox, system };
  };
  const lanes = Array.from({ length: SANDBOXES }, lane);

  const waitForWebhook = (paymentId) =>
    new Promise((resolve, reject) => {
      waiters.set(paymentId, { resolve, reject, since: performance.now() });
    });
  // One sweep for all waiters instead of a timer per lifecycle.
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (const [paymentId, waiter] of waiters) {
      if (now - waiter.since > LIFECYCLE_TIMEOUT_MS) {
        waiters.delete(paymentId);
        waiter.reject(new Error(`no webhook handled for ${paymentId} within ${LIFECYCLE_TIMEOUT_MS} ms`));
      }
    }
  }, 1000);
  sweeper.unref();

  return {
    store,
    lanes,
    webhook,
    waitForWebhook,
    payments: () => lanes.flatMap((l) => l.sandbox.payments()),
    idle: () => Promise.all(lanes.map((l) => l.sandbox.idle())),
    async close() {
      clearInterval(sweeper);
      await Promise.all(lanes.map((l) => l.sandbox.close()));
    },
  };
}

const referenceOf = (payment) => String(payment.redirectUrl).split("/pay/")[1];

function randomCart() {
  const first = randomInt(1, SELLERS);
  let second = randomInt(1, SELLERS - 1);
  if (second >= first) second++;
  return {
    buyerId: `B${randomInt(1, BUYERS)}`,
    currency: CURRENCY,
    method: "card",
    orders: [
      { sellerId: `S${first}`, amount: BigInt(randomInt(100, 100_000)) },
      { sellerId: `S${second}`, amount: BigInt(randomInt(100, 100_000)) },
    ],
    successUrl: "https://shop.bench/orders/done",
    cancelUrl: "https://shop.bench/cart",
    metadata: { cart: `cart-${randomBytes(4).toString("hex")}` },
  };
}

/**
 * One lifecycle: create → pay → webhook handled. Returns the amount charged and the phase times;
 * throws on any deviation from the happy path.
 */
async function lifecycle(world, { system, sandbox }, idempotencyKey, onCreated) {
  const input = randomCart();
  const begun = performance.now();
  const created = await system.createPayment(input, { idempotencyKey });
  const createdAt = performance.now();
  const payment = created.payment;
  if (created.replayed || payment.status !== "requires_payment") {
    throw new Error(`createPayment answered ${payment.status} (replayed ${created.replayed})`);
  }
  onCreated?.();
  const paymentId = payment.id;
  const handled = world.waitForWebhook(paymentId); // registered before the webhook can be sent
  handled.catch(() => undefined); // awaited below; this only keeps an early throw from leaving it unhandled
  const paid = await sandbox.pay(referenceOf(payment), { card: CARD });
  if (paid.status !== "succeeded") throw new Error(`sandbox.pay → ${paid.status}`);
  const paidAt = performance.now();
  await handled;
  const done = performance.now();
  return {
    paymentId,
    amount: input.orders[0].amount + input.orders[1].amount,
    begun,
    createMs: createdAt - begun,
    webhookWaitMs: done - paidAt,
    done,
  };
}

/**
 * `CONCURRENCY` buyer loops for `WARMUP_SECONDS + SECONDS`; lifecycles/s and latencies count the
 * lifecycles that complete inside the measured window (latencies: those that also began in it).
 */
async function loadLifecycles(world, label) {
  const { runTag, start, measureFrom, stopAt } = loadWindow(label);
  const createMs = [];
  const lifecycleMs = [];
  const webhookWaitMs = [];
  const errors = [];
  let created = 0; // payments created (warm-up included): the payment and sandbox payment counts must match it
  let completed = 0; // lifecycles completed (warm-up included): the succeeded count must match it
  let measured = 0;
  let charged = 0n; // sum of completed payment amounts: the PSP receivable must equal it

  async function buyer(b) {
    for (let i = 0; ; i++) {
      if (performance.now() >= stopAt) return;
      let result;
      try {
        result = await lifecycle(
          world,
          world.lanes[b % world.lanes.length],
          `bench-${runTag}-b${b}-${i}`,
          () => {
            created++;
          },
        );
      } catch (error) {
        recordError(errors, label, "failed lifecycles", error);
        continue;
      }
      completed++;
      charged += result.amount;
      const { begun, done } = result;
      if (done > measureFrom && done <= stopAt) {
        measured++;
        if (begun >= measureFrom) {
          createMs.push(result.createMs);
          lifecycleMs.push(done - begun);
          webhookWaitMs.push(result.webhookWaitMs);
        }
      }
    }
  }

  await Promise.all(Array.from({ length: CONCURRENCY }, (_, b) => buyer(b)));
  const ended = performance.now();
  await world.idle();
  return {
    lifecyclesPerSecond: measured / SECONDS,
    measured,
    created,
    completed,
    charged,
    errors,
    wallSeconds: (ended - start) / 1000,
    createPaymentMs: latencySummary(createMs),
    lifecycleMs: latencySummary(lifecycleMs),
    webhookWaitMs: latencySummary(webhookWaitMs),
  };
}

/** Per-status payment counts, journals, trial balance, receivable, sandbox payments, webhooks. */
async function verify(world, load, extra = { payments: 0, charged: 0n }) {
  const { store, webhook } = world;
  const knex = store.knex;
  const problems = [];
  const expectedPayments = load.created + extra.payments;
  const expectedSucceeded = load.completed + extra.payments;

  const byStatus = {};
  for (const row of await knex(TABLES.payments).select("status").count({ n: "*" }).groupBy("status")) {
    byStatus[row.status] = Number(row.n);
  }
  const payments = Object.values(byStatus).reduce((a, b) => a + b, 0);
  const succeeded = byStatus.succeeded ?? 0;
  if (payments !== expectedPayments) problems.push(`payments ${payments} ≠ created ${expectedPayments}`);
  if (succeeded !== expectedSucceeded)
    problems.push(`succeeded payments ${succeeded} ≠ completed lifecycles ${expectedSucceeded}`);
  if (succeeded !== payments)
    problems.push(`payments by status ${JSON.stringify(byStatus)}: not all succeeded`);

  const [orderRow] = await knex(TABLES.paymentOrders).where({ status: "succeeded" }).count({ n: "*" });
  const succeededOrders = Number(orderRow?.n);
  if (succeededOrders !== 2 * succeeded)
    problems.push(`succeeded payment orders ${succeededOrders} ≠ 2 × ${succeeded}`);

  const [journalRow] = await knex(TABLES.journals).count({ n: "*" });
  const journals = Number(journalRow?.n);
  if (journals !== succeeded) problems.push(`journals ${journals} ≠ succeeded payments ${succeeded}`);

  const trial = new Map();
  let receivable = 0n;
  for (const row of await store.ledger.listBalances()) {
    trial.set(row.currency, (trial.get(row.currency) ?? 0n) + row.balance);
    if (row.account === "psp:sandbox:receivable" && row.currency === CURRENCY) receivable += row.balance;
  }
  for (const [currency, total] of trial) {
    if (total !== 0n) problems.push(`trial balance ${currency} = ${total} ≠ 0`);
  }
  const expectedCharged = load.charged + extra.charged;
  if (receivable !== expectedCharged)
    problems.push(`psp:sandbox:receivable ${receivable} ≠ charged ${expectedCharged}`);

  const pspPayments = world.payments();
  const paid = pspPayments.filter((p) => p.status === "succeeded").length;
  if (pspPayments.length !== payments)
    problems.push(`sandbox payments ${pspPayments.length} ≠ payments ${payments}`);
  if (paid !== pspPayments.length)
    problems.push(`sandbox payments succeeded ${paid} of ${pspPayments.length}`);

  const [outboxRow] = await knex(TABLES.outbox).count({ n: "*" });
  const outbox = Number(outboxRow?.n);
  if (outbox !== 3 * payments) problems.push(`outbox events ${outbox} ≠ 3 × ${payments}`);

  if (webhook.failed > 0)
    problems.push(`${webhook.failed} webhook deliveries failed, first: ${webhook.errors[0]}`);
  if (webhook.duplicates > 0 || webhook.deferred > 0)
    problems.push(`webhooks: ${webhook.duplicates} duplicates, ${webhook.deferred} deferred`);
  if (load.errors.length > 0)
    problems.push(`${load.errors.length} lifecycles failed, first: ${load.errors[0]}`);
  return {
    payments,
    byStatus,
    succeededOrders,
    journals,
    trialBalance: Object.fromEntries([...trial].map(([c, t]) => [c, t.toString()])),
    receivable: receivable.toString(),
    sandboxPayments: payments.length,
    outboxEvents: outbox,
    webhooksHandled: webhook.handled,
    ok: problems.length === 0,
    problems,
  };
}

// ---------------------------------------------------------------------------------------------
// SQL statements per lifecycle (one probe lifecycle, counted at the driver)

/**
 * Counts statements sent by the drivers while `fn` runs: pg `Client#query` (knex's queries and
 * the store's own prepared statements) or better-sqlite3 statement executions and prepares.
 */
async function countStatements(dialect, fn) {
  const counts = new Map();
  const add = (text) => {
    const key = String(text ?? "?")
      .replace(/\s+/g, " ")
      .trim()
      .slice(0, 90);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  const restore = [];
  const wrap = (proto, method, textOf) => {
    const original = proto[method];
    proto[method] = function (...args) {
      add(textOf(this, args));
      return original.apply(this, args);
    };
    restore.push(() => {
      proto[method] = original;
    });
  };
  let prepares = 0;
  if (dialect === "postgres") {
    const pg = require("pg");
    wrap(pg.Client.prototype, "query", (_self, [q]) => (typeof q === "string" ? q : q?.text));
  } else {
    const Database = require("better-sqlite3");
    const probe = new Database(":memory:");
    const Statement = Object.getPrototypeOf(probe.prepare("SELECT 1"));
    probe.close();
    const sqlOf = (self) => self.source;
    for (const method of ["run", "get", "all", "iterate"]) wrap(Statement, method, sqlOf);
    const originalPrepare = Database.prototype.prepare;
    Database.prototype.prepare = function (...args) {
      prepares++;
      return originalPrepare.apply(this, args);
    };
    restore.push(() => {
      Database.prototype.prepare = originalPrepare;
    });
  }
  try {
    await fn();
  } finally {
    for (const undo of restore) undo();
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const statements = [...counts].sort((a, b) => b[1] - a[1]).map(([sql, n]) => ({ n, sql }));
  return { total, prepares: dialect === "postgres" ? null : prepares, statements };
}

/** One lifecycle outside the timed run, its statements counted per phase. */
async function probeLifecycle(world, dialect) {
  const tag = randomBytes(4).toString("hex");
  let payment;
  const create = await countStatements(dialect, async () => {
    ({ payment } = await world.lanes[0].system.createPayment(randomCart(), {
      idempotencyKey: `probe-${tag}`,
    }));
  });
  const amount = payment.amount;
  const webhook = await countStatements(dialect, async () => {
    const handled = world.waitForWebhook(payment.id);
    await world.lanes[0].sandbox.pay(referenceOf(payment), { card: CARD });
    await handled;
  });
  return { amount, createPayment: create, webhook, total: create.total + webhook.total };
}

function printStatements(probe) {
  if (!probe) return;
  const prepares =
    probe.createPayment.prepares != null
      ? ` (better-sqlite3 prepares: ${probe.createPayment.prepares} + ${probe.webhook.prepares})`
      : "";
  log(
    `  SQL statements per lifecycle: ${probe.total} = createPayment ${probe.createPayment.total} + ` +
      `webhook ${probe.webhook.total}${prepares}`,
  );
  for (const [phase, counted] of [
    ["createPayment", probe.createPayment],
    ["webhook", probe.webhook],
  ]) {
    log(`    ${phase}:`);
    for (const { n, sql } of counted.statements) log(`      ${String(n).padStart(2)} × ${sql}`);
  }
}

function compactProbe(probe) {
  if (!probe) return null;
  const phase = (p) => ({
    total: p.total,
    prepares: p.prepares,
    statements: p.statements.map(({ n, sql }) => `${n}× ${sql}`),
  });
  return { total: probe.total, createPayment: phase(probe.createPayment), webhook: phase(probe.webhook) };
}

// ---------------------------------------------------------------------------------------------

function printRun(label, r) {
  const { createPaymentMs: c, lifecycleMs: l, webhook: w } = r;
  log(
    `  ${label}: ${round(r.lifecyclesPerSecond)} lifecycles/s (${r.measuredLifecycles} in ${SECONDS} s), ` +
      `createPayment p50 ${c.p50} ms p99 ${c.p99} ms, lifecycle p50 ${l.p50} ms p99 ${l.p99} ms`,
  );
  log(
    `  webhooks: ${w.handled} handled, up to ${WEBHOOK_CONCURRENCY} at a time per sandbox (${SANDBOXES} sandbox${SANDBOXES > 1 ? "es" : ""}), ` +
      `handleWebhook p50 ${w.handleMs.p50} ms p99 ${w.handleMs.p99} ms, delivery slots busy ` +
      `${w.busyPercent}% of the run; pay → handled ` +
      `p50 ${r.webhookWaitMs.p50} ms p99 ${r.webhookWaitMs.p99} ms`,
  );
  printCost(r.cost, "lifecycle", { serverLabel: SERVER_LABEL });
  const v = r.verify;
  log(
    `  verify: payments ${v.payments} ${JSON.stringify(v.byStatus)}, journals ${v.journals}, sandbox payments ` +
      `${v.sandboxPayments}, trial balance ${JSON.stringify(v.trialBalance)} → ` +
      `${v.ok ? "OK" : `FAILED: ${v.problems.join("; ")}`}`,
  );
}

/**
 * Probe, timed load, verification and cost of one store; `admin` (Postgres) measures WAL and, for
 * a local server, the CPU of the backends connected to `database`.
 */
async function benchWorld(label, dialect, knex, { admin, database, storeOptions } = {}) {
  const world = await makeWorld(knex, storeOptions);
  try {
    const probe = COUNT_STATEMENTS ? await probeLifecycle(world, dialect) : null;
    gc();
    const lsn = admin ? await walLsn(admin) : null;
    const backends = admin && PG_IS_LOCAL ? await backendTicks(admin, database) : null;
    const started = meter();
    world.webhook.handleMs.length = 0;
    world.webhook.busyMs = 0;
    const load = await loadLifecycles(world, label);
    const cost = costSince(started, load.completed, { postgres: dialect === "postgres" && PG_IS_LOCAL });
    const backendsAfter = backends ? await backendTicks(admin, database, backends.pids) : null;
    // CLK_TCK = 100: one tick is 10 ms.
    cost.backendCpuMsPerUnit =
      backendsAfter && load.completed
        ? round(((backendsAfter.ticks - backends.ticks) * 10) / load.completed, 3)
        : null;
    cost.backends = backends?.pids.length ?? null;
    cost.walBytesPerUnit = admin ? await walBytesPerUnit(admin, lsn, load.completed) : null;
    const check = await verify(world, load, { payments: probe ? 1 : 0, charged: probe?.amount ?? 0n });
    const result = {
      lifecyclesPerSecond: round(load.lifecyclesPerSecond),
      measuredLifecycles: load.measured,
      completedLifecycles: load.completed,
      createdPayments: load.created,
      errors: load.errors.length,
      createPaymentMs: load.createPaymentMs,
      lifecycleMs: load.lifecycleMs,
      webhookWaitMs: load.webhookWaitMs,
      webhook: {
        handled: world.webhook.handled,
        failed: world.webhook.failed,
        handleMs: latencySummary(world.webhook.handleMs),
        busyPercent: round((world.webhook.busyMs / WEBHOOK_SLOTS / (load.wallSeconds * 1000)) * 100),
      },
      statementsPerLifecycle: probe?.total ?? null,
      statements: compactProbe(probe),
      cost,
      verify: check,
    };
    printRun(label, result);
    printStatements(probe);
    return result;
  } finally {
    await world.close();
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

async function benchPostgres(admin, serverVersionNum) {
  // Buyers hold at most one connection each; each webhook in flight one more.
  const pool = CONCURRENCY + Math.min(WEBHOOK_SLOTS, CONCURRENCY) + 1;
  log(`\n== PostgreSQL lifecycles: ${CONCURRENCY} buyers, pool ${pool}, database ${BENCH_DB}`);
  return withPgDatabase(admin, serverVersionNum, BENCH_DB, pool, async (knex) => {
    // Open every pooled connection now, so their server backends can be found and metered.
    await Promise.all(Array.from({ length: pool }, () => knex.raw("SELECT pg_sleep(0.05)")));
    return await benchWorld("postgres", "postgres", knex, { admin, database: BENCH_DB });
  });
}

// ---------------------------------------------------------------------------------------------
// SQLite

/** `sqliteSynchronous`: undefined (the store default) or "normal". */
async function benchSqlite(dir, sqliteSynchronous) {
  const filename = join(dir, `lifecycle-${sqliteSynchronous ?? "default"}.sqlite`);
  log(
    `\n== SQLite lifecycles (${sqliteSynchronous ? `sqliteSynchronous: "${sqliteSynchronous}"` : "store defaults"}): ` +
      `${CONCURRENCY} buyers, ${filename}`,
  );
  return withSqlite(filename, async (knex) => {
    const storeOptions = sqliteSynchronous ? { sqliteSynchronous } : {};
    const result = await benchWorld(`sqlite-${sqliteSynchronous ?? "default"}`, "sqlite", knex, {
      storeOptions,
    });
    const { journalMode, synchronous } = await sqlitePragmas(knex);
    log(`  journal_mode = ${journalMode}, synchronous = ${synchronous}`);
    return { ...result, journalMode, synchronous, storeDefault: !sqliteSynchronous };
  });
}

/**
 * pgbench running one lifecycle's SQL from `script` (`lifecycle.pgbench.sql`: the same statements,
 * tables, indexes and row sizes as the store; `lifecycle-lean.pgbench.sql`: the same work as one
 * statement per phase) with `-M prepared` and `BENCH_CONCURRENCY` clients, in a database migrated
 * by the store: how many lifecycles/s the database alone allows here, with no Node in the loop.
 */
async function benchLifecycleSql(script, title) {
  const version = await pgbenchAvailable();
  if (!version) return null;
  log(`\n== pgbench running ${title}: ${CONCURRENCY} clients, ${SECONDS} s, -M prepared`);
  const admin = pgKnex(PG_URL, 1);
  try {
    const { rows } = await admin.raw("SELECT current_setting('server_version_num')::int AS num");
    return await withPgDatabase(admin, rows[0].num, PGBENCH_SQL_DB, 2, async (knex) => {
      await knexStore(knex).migrate();
      const { connArgs, env } = pgbenchArgs(PGBENCH_SQL_DB);
      const args = [...connArgs, "-n", "-M", "prepared", "-c", String(CONCURRENCY)];
      args.push("-j", String(Math.max(1, Math.min(2, CONCURRENCY))), "-f", script);
      const pgbench = (seconds) =>
        execFileAsync(PGBENCH, [...args, "-T", String(Math.ceil(seconds)), PGBENCH_SQL_DB], {
          env,
          maxBuffer: 64 * 1024 * 1024,
        });
      if (WARMUP_SECONDS > 0) await pgbench(WARMUP_SECONDS);
      await settleDisk();
      gc();
      const lsn = await walLsn(admin);
      const started = meter();
      const parsed = parsePgbench((await pgbench(SECONDS)).stdout);
      const cost = costSince(started, parsed.transactions ?? 0, { postgres: PG_IS_LOCAL });
      cost.walBytesPerUnit = await walBytesPerUnit(admin, lsn, parsed.transactions);
      log(`  ${round(parsed.tps)} lifecycles/s, latency avg ${parsed.latencyAvgMs} ms`);
      printCost(cost, "lifecycle", { serverLabel: SERVER_LABEL });
      return { ...parsed, cost };
    });
  } catch (error) {
    console.error(`pgbench running ${title} failed: ${errorText(error)}`);
    return { error: errorText(error) };
  } finally {
    await admin.destroy();
  }
}

/** Client CPU (`clientKey`) plus server CPU per unit of `cost`, or undefined when unknown. */
function cpuPerUnit(cost, clientKey) {
  const client = cost?.[clientKey];
  const server = cost?.backendCpuMsPerUnit ?? cost?.postgresCpuMsPerUnit;
  return typeof client === "number" && typeof server === "number" ? client + server : undefined;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const result = benchResult(
    { concurrency: CONCURRENCY, sandboxes: SANDBOXES, webhookConcurrency: WEBHOOK_CONCURRENCY },
    ["sqliteDefault", "sqliteNormal"],
  );
  log(
    `settlekit lifecycle benchmark: ${CONCURRENCY} buyers, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s measured, ` +
      `create → pay (sandbox) → signed webhook → ledger; ${SANDBOXES} sandbox${SANDBOXES > 1 ? "es" : ""} delivering up to ${WEBHOOK_CONCURRENCY} webhooks at once, ` +
      `${SELLERS} sellers, ${BUYERS} buyers; ` +
      `node ${process.version}, nproc ${result.nproc}`,
  );

  // SQLite file first: the store's default durability (synchronous=FULL), then synchronous=NORMAL.
  // Its synced commits wait on the disk, which the Postgres and pgbench runs leave busy writing
  // back for a while, so SQLite runs on a quiet disk and Postgres (CPU-bound here) after it.
  await withTempDir("settlekit-lifecycle-bench-", async (dir) => {
    const sqlite = (mode) =>
      checkedSqliteRun(result.failures, mode ?? "default", () => benchSqlite(dir, mode));
    if (STORES.includes("sqlite")) result.sqliteDefault = await sqlite(undefined);
    if (STORES.includes("sqlite-normal")) result.sqliteNormal = await sqlite("normal");
  });

  // PostgreSQL, then pgbench on the same server (one after the other, never concurrently).
  if (STORES.includes("postgres")) {
    await benchPostgresAndPgbench(result, {
      benchStore: benchPostgres,
      pgbenchDatabase: PGBENCH_DB,
      clients: CONCURRENCY,
      runPgbench: RUN_PGBENCH,
      serverLabel: SERVER_LABEL,
    });
    if (RUN_PGBENCH) {
      result.pgbenchLifecycleSql = await benchLifecycleSql(LIFECYCLE_SQL, "the lifecycle's own SQL");
      if (RUN_LEAN_SQL)
        result.pgbenchLeanSql = await benchLifecycleSql(
          LEAN_SQL,
          "the lifecycle's work as one statement per phase (what-if)",
        );
    }
  }

  setTargets(result, TARGETS);
  const header = storeHeader(
    [
      "lifecycles/s (tps)",
      "create p50 ms",
      "create p99 ms",
      "lifecycle p50 ms",
      "lifecycle p99 ms",
      "webhook p50 ms",
      "SQL stmts",
    ],
    "pg CPU ms",
  );
  const lifecycleRow = (label, r) =>
    storeRow(label, r, header.length, (run) => [
      fmt(run.lifecyclesPerSecond),
      fmt(run.createPaymentMs.p50, 2),
      fmt(run.createPaymentMs.p99, 2),
      fmt(run.lifecycleMs.p50, 2),
      fmt(run.lifecycleMs.p99, 2),
      fmt(run.webhook.handleMs.p50, 2),
      run.statementsPerLifecycle ?? "—",
    ]);
  const rows = [header];
  if (STORES.includes("postgres")) {
    rows.push(lifecycleRow(`postgres, ${CONCURRENCY} buyers`, result.postgres));
    // pgbench's create / lifecycle / webhook cells are empty; TPC-B is 7 statements a transaction.
    pushPgbenchRows(rows, result.pgbench, ["—", "—", "—", "—", "7"]);
  }
  if (STORES.includes("sqlite"))
    rows.push(lifecycleRow(`sqlite, synchronous=FULL (store default)`, result.sqliteDefault));
  if (STORES.includes("sqlite-normal"))
    rows.push(lifecycleRow("sqlite, synchronous=NORMAL", result.sqliteNormal));

  log(
    "\n== Results (latencies in the measured window; SQL statements, CPU and WAL per lifecycle | per pgbench " +
      "transaction, warm-up included)",
  );
  log(table(rows));
  log(
    "pg CPU: the benchmark's own backends for the lifecycle row, the whole server for pgbench (its backends " +
      "exit before they can be read); WAL: the whole server. Other work on a shared server inflates both.",
  );
  const sqlOnly = result.pgbenchLifecycleSql;
  const tpcb = result.pgbench?.simple?.tps;
  if (sqlOnly?.tps && tpcb) {
    result.lifecycleSqlRatio = round(sqlOnly.tps / tpcb, 3);
    log(
      `database alone: pgbench running the lifecycle's own SQL does ${round(sqlOnly.tps)} lifecycles/s = ` +
        `${result.lifecycleSqlRatio} × TPC-B (the ceiling of lifecycles_per_s / pgbench_tps on this machine ` +
        `for this SQL, whatever the client does)`,
    );
  }
  const lean = result.pgbenchLeanSql;
  if (lean?.tps && tpcb) {
    result.leanSqlRatio = round(lean.tps / tpcb, 3);
    log(
      `what-if: the same work as one statement per phase does ${round(lean.tps)} lifecycles/s = ` +
        `${result.leanSqlRatio} × TPC-B with no client at all`,
    );
  }
  // When the lifecycles and TPC-B both keep the machine's CPUs busy, their rates stand in the
  // inverse ratio of the machine CPU each unit costs: the ratio cannot exceed that quotient.
  const tpcbCpu = cpuPerUnit(result.pgbench?.simple?.cost, "childCpuMsPerUnit");
  const cpuBound = (label, cpu) => {
    if (!tpcbCpu || !cpu) return undefined;
    const bound = round(tpcbCpu / cpu, 3);
    log(
      `  ${label}: ${fmt(cpu, 3)} ms of machine CPU per lifecycle against ${fmt(tpcbCpu, 3)} ms per TPC-B ` +
        `transaction (pgbench + server) → ratio at most ${bound} with both CPU-bound`,
    );
    return bound;
  };
  if (tpcbCpu) {
    log("CPU bound (2 vCPUs shared by client and server):");
    result.cpuBound = {
      store: cpuBound(
        "settlekit (Node + its Postgres backends)",
        cpuPerUnit(result.postgres?.cost, "nodeCpuMsPerUnit"),
      ),
      lifecycleSql: cpuBound(
        "the lifecycle's SQL under pgbench",
        cpuPerUnit(sqlOnly?.cost, "childCpuMsPerUnit"),
      ),
      leanSql: cpuBound("one statement per phase under pgbench", cpuPerUnit(lean?.cost, "childCpuMsPerUnit")),
    };
  }
  printTargets(result, TARGETS);
  finish(result);
}

await main();
