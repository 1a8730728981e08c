// Payout cycle benchmark: `npm run bench:payouts` (builds first, then runs this file).
//
// BENCH_SELLERS sellers (default 10 000) each have an available balance — real ledger journals,
// posted in bulk through `postJournal`: per chunk of sellers one `payment_succeeded` journal
// (`psp:sandbox:receivable` → each seller's `pending`) and per seller one `fulfilled` journal
// (`pending` → `available`, less 10 % commission and a logistics fee), as fulfilment books them —
// and a daily payout schedule that is due. Then one payout cycle, run by BENCH_RUNNERS worker
// runtimes (default 8, `createWorker`, all in this process over one store) as a host runs them:
// each pass relays the outbox, runs claimed jobs and schedules due sellers (`schedulePayouts` →
// `payout.reserve` → `payout.send` through the sandbox PSP → paid → `notify.payout_paid`).
// The cycle is timed from the runners' start to the moment the last payout is recorded as paid.
// On PostgreSQL (own database, created and dropped) and on a SQLite file; when `pgbench` is on the
// PATH, TPC-B (scale 10, BENCH_RUNNERS clients, BENCH_SECONDS) on the same server afterwards, the
// ratio payouts/s ÷ TPC-B tps, and the bound the machine's CPU puts on that ratio (machine CPU
// per TPC-B transaction ÷ per payout, as `bench:lifecycle` computes it).
//
// Afterwards (the queue drained, the runners stopped): every seller was paid exactly once (one
// payout at the sandbox and one paid payout row per seller, for exactly the seller's net), no
// available or reserved balance is left, every currency's trial balance is zero, what the
// sandbox paid equals `psp:sandbox:payouts`, every seller was notified once, no job is dead.
// Any of that failing exits non-zero; a missed throughput target is reported, not fatal.
//
// Environment (the shared options are read in bench/kit.mjs at the repository root):
//   SETTLEKIT_PG_URL      admin connection (default postgres://postgres@127.0.0.1:5432/test)
//   BENCH_SELLERS         sellers with a balance, each paid once (default 10000)
//   BENCH_RUNNERS         worker runtimes running the cycle (default 8; also pgbench's clients)
//   BENCH_IDLE_MS         a runner's pause after a pass that found nothing to do (default 100)
//   BENCH_STORES          which runs, comma-separated (default postgres,sqlite)
//   BENCH_PGBENCH         0 to skip pgbench (default 1)
//   BENCH_SECONDS         pgbench's measured seconds (default 10)
//   BENCH_CYCLE_TIMEOUT_S a cycle not done after this long fails (default 600)

import { createRequire } from "node:module";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { accounts, createPaymentSystem, createWorker, postJournal, runWorkerPass } from "@settlekit/core";
import { sandboxProvider } from "@settlekit/psp-sandbox";
import { knexStore, TABLES } from "@settlekit/store-knex";
import { backendTicks, costSince, meter, walBytesPerUnit, walLsn } from "../../../bench/cost-meter.mjs";
import {
  benchPostgresAndPgbench,
  benchResult,
  checkedRun,
  errorText,
  finish,
  fmt,
  gc,
  latencySummary,
  log,
  metText,
  PG_IS_LOCAL,
  positiveNumber,
  printCost,
  pushPgbenchRows,
  round,
  settleDisk,
  sqlitePragmas,
  storeHeader,
  storeRow,
  table,
  withPgDatabase,
  withSqlite,
  withTempDir,
} from "../../../bench/kit.mjs";

const require = createRequire(import.meta.url);

const SELLERS = Math.floor(positiveNumber("BENCH_SELLERS", 10_000));
const RUNNERS = Math.floor(positiveNumber("BENCH_RUNNERS", 8));
const IDLE_MS = positiveNumber("BENCH_IDLE_MS", 100);
const STORES = (process.env.BENCH_STORES || "postgres,sqlite").split(",").map((s) => s.trim());
const RUN_PGBENCH = process.env.BENCH_PGBENCH !== "0";
const CYCLE_TIMEOUT_MS = positiveNumber("BENCH_CYCLE_TIMEOUT_S", 600) * 1000;
const BENCH_DB = "settlekit_bench_payouts";
const PGBENCH_DB = "settlekit_pgbench_payouts";
/** Sellers seeded per transaction. */
const SEED_CHUNK = 500;
/** Every fourth seller earns in EUR, the others in USD: two currencies whose ledgers must balance. */
const currencyOf = (i) => (i % 4 === 3 ? "EUR" : "USD");
const sellerId = (i) => `S${String(i).padStart(5, "0")}`;
/** What seller i sold, and what fulfilment leaves available after 10 % commission and 100 logistics. */
function earnings(i) {
  const amount = BigInt(1_000 + ((i * 7_919) % 99_000));
  const commission = amount / 10n;
  const logistics = 100n;
  return { amount, commission, logistics, net: amount - commission - logistics };
}
/** Throughput target: payouts/s ≥ 0.25 × TPC-B, or ≥ 0.8 × the CPU bound when that is below 0.25. */
const MIN_RATIO = 0.25;
const MIN_OF_BOUND = 0.8;
const SERVER_LABEL = "postgres (whole server)";
const silent = { debug() {}, info() {}, warn() {}, error() {} };

// ---------------------------------------------------------------------------------------------
// Seeding: real journals, in bulk

/**
 * The sellers' balances and due schedules, `SEED_CHUNK` sellers per transaction: one
 * `payment_succeeded` journal per chunk and currency, one `fulfilled` journal per seller, one
 * payout account per seller (daily, due a minute ago).
 */
async function seed(store) {
  const begun = performance.now();
  const due = new Date(Date.now() - 60_000);
  let journals = 0;
  for (let from = 0; from < SELLERS; from += SEED_CHUNK) {
    const chunk = Array.from({ length: Math.min(SEED_CHUNK, SELLERS - from) }, (_, k) => from + k);
    await store.transaction(async (tx) => {
      for (const currency of ["USD", "EUR"]) {
        const mine = chunk.filter((i) => currencyOf(i) === currency);
        if (mine.length === 0) continue;
        const total = mine.reduce((sum, i) => sum + earnings(i).amount, 0n);
        await postJournal(tx, {
          reference: `payment:seed-${from}-${currency}:bench`,
          kind: "payment_succeeded",
          metadata: { seed: "bench:payouts" },
          postings: [
            { account: accounts.pspReceivable("sandbox"), currency, direction: "debit", amount: total },
            ...mine.map((i) => ({
              account: accounts.sellerPending(sellerId(i)),
              currency,
              direction: "credit",
              amount: earnings(i).amount,
            })),
          ],
        });
        journals++;
      }
      for (const i of chunk) {
        const { amount, commission, logistics, net } = earnings(i);
        const currency = currencyOf(i);
        await postJournal(tx, {
          reference: `fulfilled:seed-order-${i}`,
          kind: "fulfilled",
          metadata: { sellerId: sellerId(i), paymentOrderId: `seed-order-${i}` },
          postings: [
            { account: accounts.sellerPending(sellerId(i)), currency, direction: "debit", amount },
            { account: accounts.sellerAvailable(sellerId(i)), currency, direction: "credit", amount: net },
            { account: accounts.platformCommission, currency, direction: "credit", amount: commission },
            { account: accounts.platformLogistics, currency, direction: "credit", amount: logistics },
          ],
        });
        journals++;
        await tx.sellerPayoutAccounts.insert({
          sellerId: sellerId(i),
          interval: "daily",
          nextPayoutAt: due,
          version: 1,
          createdAt: due,
          updatedAt: due,
        });
      }
    });
  }
  const seconds = (performance.now() - begun) / 1000;
  log(
    `  seeded ${SELLERS} sellers (${journals} journals, ${SELLERS} due payout accounts) in ${round(seconds)} s`,
  );
  return { seconds: round(seconds, 2), journals };
}

// ---------------------------------------------------------------------------------------------
// Statements sent while the cycle runs (counted at the driver)

function countStatements(dialect) {
  const counts = new Map();
  const add = (text) => {
    const key = String(text ?? "?")
      .slice(0, 100)
      .replace(/\s+/g, " ");
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
  if (dialect === "postgres") {
    const pg = require("pg");
    wrap(pg.Client.prototype, "query", (_self, [q]) => (typeof q === "string" ? q : q?.text));
  } else {
    const Database = require("better-sqlite3");
    const probe = new Database(":memory:");
    const Statement = Object.getPrototypeOf(probe.prepare("SELECT 1"));
    probe.close();
    for (const method of ["run", "get", "all", "iterate"]) wrap(Statement, method, (self) => self.source);
  }
  return {
    stop() {
      for (const undo of restore) undo();
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      const begins = [...counts].filter(([sql]) => /^BEGIN/i.test(sql)).reduce((a, [, n]) => a + n, 0);
      const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 25);
      return { total, begins, top };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The cycle

/**
 * Seeds `knex`'s store, runs one payout cycle with `RUNNERS` workers through the sandbox, waits
 * until every seller is paid, drains the queue, verifies. `admin` (Postgres) meters the server.
 */
async function benchWorld(label, dialect, knex, { admin, database, storeOptions } = {}) {
  const store = knexStore(knex, storeOptions);
  await store.migrate();
  const seeded = await seed(store);
  const sandbox = sandboxProvider({
    baseUrl: "http://shop.bench/sandbox",
    webhookUrl: "http://shop.bench/webhooks/sandbox",
    webhookSecret: "whsec_bench_payouts",
    // Paid payouts send no webhook; anything else the sandbox sends is acknowledged and dropped.
    fetch: async () => new Response("{}", { status: 200 }),
  });
  const notified = new Map(); // payoutId → notifications
  const errors = [];
  // Payout answers counted as they return (copying the sandbox's payouts to count them would cost
  // the benchmark's own CPU, O(sellers) per look).
  let answered = 0;
  const psp = {
    ...sandbox,
    async payout(input) {
      const result = await sandbox.payout(input);
      answered++;
      return result;
    },
  };
  const system = createPaymentSystem({
    store,
    providers: [psp],
    payoutProvider: "sandbox",
    logger: silent,
    notifier: {
      async notify(n) {
        if (n.kind === "payout_paid") notified.set(n.payoutId, (notified.get(n.payoutId) ?? 0) + 1);
      },
    },
  });
  const workers = Array.from({ length: RUNNERS }, (_, r) =>
    createWorker(system, {
      workerId: `${label}-runner-${r}`,
      idleMs: IDLE_MS,
      onError: (error) => {
        if (errors.length < 20) errors.push(errorText(error));
      },
    }),
  );
  const paidCount = async () => {
    const [row] = await knex(TABLES.payouts).where({ status: "paid" }).count({ n: "*" });
    return Number(row.n);
  };
  const openJobs = async () => {
    const [row] = await knex(TABLES.jobs).whereIn("status", ["queued", "running"]).count({ n: "*" });
    return Number(row.n);
  };
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  try {
    await settleDisk();
    gc();
    const lsn = admin ? await walLsn(admin) : null;
    const backends = admin && PG_IS_LOCAL ? await backendTicks(admin, database) : null;
    const statements = countStatements(dialect);
    const started = meter();
    const begun = performance.now();
    for (const w of workers) w.start();
    // The PSP's answers first (a counter), then the store: done when every payout is recorded paid.
    let done = false;
    while (performance.now() - begun < CYCLE_TIMEOUT_MS) {
      if (answered >= SELLERS && (await paidCount()) >= SELLERS) {
        done = true;
        break;
      }
      await sleep(answered >= SELLERS ? 10 : 25);
    }
    const ended = performance.now();
    const cost = costSince(started, SELLERS, { postgres: dialect === "postgres" && PG_IS_LOCAL });
    const backendsAfter = backends ? await backendTicks(admin, database, backends.pids) : null;
    const counted = statements.stop();
    cost.backendCpuMsPerUnit =
      backendsAfter && backends ? round(((backendsAfter.ticks - backends.ticks) * 10) / SELLERS, 3) : null;
    cost.backends = backends?.pids.length ?? null;
    cost.walBytesPerUnit = admin ? await walBytesPerUnit(admin, lsn, SELLERS) : null;
    const cycleSeconds = (ended - begun) / 1000;
    // Drain what the cycle left queued (the last notifications, the outbox), then stop the runners.
    const drainBegun = performance.now();
    while (performance.now() - drainBegun < 60_000 && (await openJobs()) > 0) await sleep(50);
    const drainSeconds = (performance.now() - drainBegun) / 1000;
    await Promise.all(workers.map((w) => w.stop()));
    for (let i = 0; i < 5; i++) {
      // The outbox relay of the last events (each pass relays up to 100).
      const pass = await runWorkerPass(system, `${label}-drain`);
      if (pass.relay.published === 0) break;
    }

    const rows = await knex(TABLES.payouts).select("status", "created_at", "paid_at");
    const ms = (v) => (typeof v === "number" || typeof v === "string" ? Number(v) : new Date(v).getTime());
    const latencies = rows.filter((r) => r.paid_at != null).map((r) => ms(r.paid_at) - ms(r.created_at));
    const check = await verify({ store, knex, sandbox, notified, errors, done });
    const result = {
      sellers: SELLERS,
      runners: RUNNERS,
      payoutsPerSecond: round(SELLERS / cycleSeconds),
      cycleSeconds: round(cycleSeconds, 2),
      drainSeconds: round(drainSeconds, 2),
      // Every payout paid and every seller notified (the notifications queue behind the payouts).
      payoutsPerSecondWithNotifications: round(SELLERS / (cycleSeconds + drainSeconds)),
      seed: seeded,
      payoutMs: latencySummary(latencies),
      statementsPerPayout: round(counted.total / SELLERS, 2),
      transactionsPerPayout: dialect === "postgres" ? round(counted.begins / SELLERS, 2) : null,
      topStatements: counted.top.map(([sql, n]) => `${round(n / SELLERS, 2)}× ${sql}`),
      cost,
      verify: check,
    };
    printRun(label, result);
    return result;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await sandbox.close?.();
  }
}

/** Paid exactly once, for exactly the net; nothing left available or reserved; ledgers balance. */
async function verify({ store, knex, sandbox, notified, errors, done }) {
  const problems = [];
  if (!done) problems.push(`cycle not done within ${CYCLE_TIMEOUT_MS / 1000} s`);
  const expected = new Map(
    Array.from({ length: SELLERS }, (_, i) => [
      sellerId(i),
      { amount: earnings(i).net, currency: currencyOf(i) },
    ]),
  );

  // At the PSP: one payout per seller, for the seller's net.
  const atPsp = sandbox.payouts();
  const perSeller = new Map();
  const paidAtPsp = new Map();
  for (const p of atPsp) {
    perSeller.set(p.sellerId, (perSeller.get(p.sellerId) ?? 0) + 1);
    const want = expected.get(p.sellerId);
    if (!want || want.amount !== p.amount || want.currency !== p.currency) {
      if (problems.length < 20) problems.push(`sandbox paid ${p.sellerId} ${p.amount} ${p.currency}`);
    }
    if (p.status === "paid") paidAtPsp.set(p.currency, (paidAtPsp.get(p.currency) ?? 0n) + p.amount);
  }
  const twice = [...perSeller].filter(([, n]) => n !== 1);
  if (atPsp.length !== SELLERS) problems.push(`sandbox payouts ${atPsp.length} ≠ sellers ${SELLERS}`);
  if (perSeller.size !== SELLERS) problems.push(`sellers paid at the sandbox ${perSeller.size} ≠ ${SELLERS}`);
  if (twice.length > 0) problems.push(`${twice.length} sellers paid more than once, e.g. ${twice[0][0]}`);

  // In the store: one paid payout per seller.
  const byStatus = {};
  for (const row of await knex(TABLES.payouts).select("status").count({ n: "*" }).groupBy("status"))
    byStatus[row.status] = Number(row.n);
  const [sellersRow] = await knex(TABLES.payouts).countDistinct({ n: "seller_id" });
  if ((byStatus.paid ?? 0) !== SELLERS || Object.keys(byStatus).length !== 1)
    problems.push(`payouts by status ${JSON.stringify(byStatus)} ≠ ${SELLERS} paid`);
  if (Number(sellersRow.n) !== SELLERS) problems.push(`sellers with a payout ${sellersRow.n} ≠ ${SELLERS}`);

  // The ledger: every currency balances, nothing left to pay, the PSP's payouts account matches.
  const trial = new Map();
  const leftOver = [];
  const pspPayouts = new Map();
  for (const row of await store.ledger.listBalances()) {
    trial.set(row.currency, (trial.get(row.currency) ?? 0n) + row.balance);
    if (/^seller:.*:(available|reserved)$/.test(row.account) && row.balance !== 0n) leftOver.push(row);
    if (row.account === accounts.pspPayouts("sandbox"))
      pspPayouts.set(row.currency, (pspPayouts.get(row.currency) ?? 0n) + row.balance);
  }
  for (const [currency, total] of trial)
    if (total !== 0n) problems.push(`trial balance ${currency} = ${total}`);
  if (leftOver.length > 0)
    problems.push(
      `${leftOver.length} seller balances not zero, e.g. ${leftOver[0].account} ${leftOver[0].balance}`,
    );
  for (const currency of new Set([...pspPayouts.keys(), ...paidAtPsp.keys()])) {
    // `psp:sandbox:payouts` is credited with what leaves through the PSP.
    const booked = -(pspPayouts.get(currency) ?? 0n);
    const paid = paidAtPsp.get(currency) ?? 0n;
    if (booked !== paid)
      problems.push(`psp:sandbox:payouts ${currency} ${booked} ≠ paid at the sandbox ${paid}`);
  }

  // Jobs and notifications.
  const jobs = {};
  for (const row of await knex(TABLES.jobs)
    .select("type", "status")
    .count({ n: "*" })
    .groupBy("type", "status"))
    jobs[`${row.type}:${row.status}`] = Number(row.n);
  const notOk = Object.entries(jobs).filter(([key]) => !key.endsWith(":succeeded"));
  if (notOk.length > 0) problems.push(`jobs not succeeded: ${JSON.stringify(Object.fromEntries(notOk))}`);
  const notifiedTwice = [...notified.values()].filter((n) => n !== 1).length;
  if (notified.size !== SELLERS || notifiedTwice > 0)
    problems.push(`payout_paid notifications for ${notified.size} payouts (${notifiedTwice} more than once)`);
  const [unrelayed] = await knex(TABLES.outbox).whereNull("published_at").count({ n: "*" });
  if (errors.length > 0) problems.push(`${errors.length} worker pass errors, first: ${errors[0]}`);
  return {
    sandboxPayouts: atPsp.length,
    payoutsByStatus: byStatus,
    trialBalance: Object.fromEntries([...trial].map(([c, t]) => [c, t.toString()])),
    paidAtSandbox: Object.fromEntries([...paidAtPsp].map(([c, t]) => [c, t.toString()])),
    jobs,
    unpublishedOutboxEvents: Number(unrelayed?.n ?? 0),
    notifications: notified.size,
    ok: problems.length === 0,
    problems,
  };
}

function printRun(label, r) {
  const p = r.payoutMs;
  log(
    `  ${label}: ${fmt(r.payoutsPerSecond)} payouts/s (${r.sellers} sellers paid in ${r.cycleSeconds} s by ${r.runners} runners), ` +
      `per payout (reserved → paid) p50 ${fmt(p.p50, 0)} ms p99 ${fmt(p.p99, 0)} ms max ${fmt(p.max, 0)} ms; ` +
      `queue drained ${r.drainSeconds} s later (the last notifications: ${fmt(r.payoutsPerSecondWithNotifications)} payouts/s with them)`,
  );
  log(
    `  SQL statements per payout: ${r.statementsPerPayout}` +
      (r.transactionsPerPayout != null ? ` in ${r.transactionsPerPayout} transactions` : "") +
      " (the whole cycle: schedule, jobs, relay, the runners' other duties)",
  );
  for (const line of r.topStatements.slice(0, 12)) log(`    ${line}`);
  printCost(r.cost, "payout", { serverLabel: SERVER_LABEL });
  const v = r.verify;
  log(
    `  verify: sandbox payouts ${v.sandboxPayouts}, payouts ${JSON.stringify(v.payoutsByStatus)}, trial balance ` +
      `${JSON.stringify(v.trialBalance)}, notifications ${v.notifications} → ${v.ok ? "OK" : `FAILED: ${v.problems.join("; ")}`}`,
  );
}

// ---------------------------------------------------------------------------------------------

async function benchPostgres(admin, serverVersionNum) {
  const pool = RUNNERS + 2;
  log(
    `\n== PostgreSQL payout cycle: ${SELLERS} sellers, ${RUNNERS} runners, pool ${pool}, database ${BENCH_DB}`,
  );
  return withPgDatabase(admin, serverVersionNum, BENCH_DB, pool, async (knex) => {
    await Promise.all(Array.from({ length: pool }, () => knex.raw("SELECT pg_sleep(0.05)")));
    return await benchWorld("postgres", "postgres", knex, { admin, database: BENCH_DB });
  });
}

async function benchSqlite(dir) {
  const filename = join(dir, "payouts.sqlite");
  log(`\n== SQLite payout cycle (store defaults): ${SELLERS} sellers, ${RUNNERS} runners, ${filename}`);
  return withSqlite(filename, async (knex) => {
    const result = await benchWorld("sqlite", "sqlite", knex);
    const { journalMode, synchronous } = await sqlitePragmas(knex);
    log(`  journal_mode = ${journalMode}, synchronous = ${synchronous}`);
    return { ...result, journalMode, synchronous };
  });
}

const cpuPerUnit = (cost, clientKey) => {
  const client = cost?.[clientKey];
  const server = cost?.backendCpuMsPerUnit ?? cost?.postgresCpuMsPerUnit;
  return typeof client === "number" && typeof server === "number" ? client + server : undefined;
};

async function main() {
  const result = benchResult({ sellers: SELLERS, runners: RUNNERS, idleMs: IDLE_MS }, ["sqlite"]);
  log(
    `settlekit payout benchmark: ${SELLERS} sellers (USD and EUR), one payout cycle by ${RUNNERS} worker runtimes ` +
      `(schedule → reserve → sandbox payout → paid → notification); node ${process.version}, nproc ${result.nproc}`,
  );
  if (STORES.includes("sqlite")) {
    await withTempDir("settlekit-payouts-bench-", async (dir) => {
      result.sqlite = await checkedRun(result.failures, "sqlite", () => benchSqlite(dir));
    });
  }
  if (STORES.includes("postgres")) {
    await benchPostgresAndPgbench(result, {
      benchStore: benchPostgres,
      pgbenchDatabase: PGBENCH_DB,
      clients: RUNNERS,
      runPgbench: RUN_PGBENCH,
      serverLabel: SERVER_LABEL,
    });
  }

  const tps = result.pgbench?.simple?.tps;
  const perSecond = result.postgres?.payoutsPerSecond;
  if (perSecond != null && tps) result.ratio = round(perSecond / tps, 3);
  if (perSecond != null && result.pgbench?.prepared?.tps)
    result.ratioPrepared = round(perSecond / result.pgbench.prepared.tps, 3);
  // Both CPU-bound, the rates stand in the inverse ratio of the machine CPU each unit costs.
  const tpcbCpu = cpuPerUnit(result.pgbench?.simple?.cost, "childCpuMsPerUnit");
  const payoutCpu = cpuPerUnit(result.postgres?.cost, "nodeCpuMsPerUnit");
  result.cpuBound = tpcbCpu && payoutCpu ? round(tpcbCpu / payoutCpu, 3) : null;
  const bound = result.cpuBound;
  const reachable = bound == null || bound >= MIN_RATIO;
  const required = reachable ? MIN_RATIO : round(MIN_OF_BOUND * bound, 3);
  result.targets = {
    postgresRatio: {
      target: reachable ? `>= ${MIN_RATIO}` : `>= ${MIN_OF_BOUND} × cpu bound ${bound} = ${required}`,
      value: result.ratio,
      ofBound: result.ratio != null && bound ? round(result.ratio / bound, 3) : null,
      met: result.ratio == null ? null : result.ratio >= required,
    },
  };

  const header = storeHeader(["payouts/s (tps)", "payout p50 ms", "payout p99 ms", "SQL stmts"], "pg CPU ms");
  const row = (label, r) =>
    storeRow(label, r, header.length, (run) => [
      fmt(run.payoutsPerSecond),
      fmt(run.payoutMs.p50, 0),
      fmt(run.payoutMs.p99, 0),
      fmt(run.statementsPerPayout),
    ]);
  const rows = [header];
  if (STORES.includes("postgres")) {
    rows.push(row(`postgres, ${RUNNERS} runners`, result.postgres));
    pushPgbenchRows(rows, result.pgbench, ["—", "7"]);
  }
  if (STORES.includes("sqlite")) rows.push(row(`sqlite (store defaults), ${RUNNERS} runners`, result.sqlite));
  log("\n== Results (CPU, WAL and statements per payout | per pgbench transaction)");
  log(table(rows));
  if (tpcbCpu && payoutCpu) {
    log(
      `CPU bound (2 vCPUs shared by client and server): ${fmt(payoutCpu, 3)} ms of machine CPU per payout ` +
        `(Node + its Postgres backends) against ${fmt(tpcbCpu, 3)} ms per TPC-B transaction (pgbench + server) ` +
        `→ ratio at most ${bound} with both CPU-bound`,
    );
  }
  const t = result.targets.postgresRatio;
  log(
    `\nratio payouts_per_s / pgbench_tps = ${result.ratio ?? "n/a"}` +
      (result.ratioPrepared != null ? ` (vs -M prepared: ${result.ratioPrepared})` : "") +
      (t.ofBound != null ? `, ${t.ofBound} × the CPU bound` : "") +
      ` — target ${t.target}: ${metText(t.met)}`,
  );
  log(
    `sqlite (store defaults): ${fmt(result.sqlite?.payoutsPerSecond)} payouts/s, p99 ${fmt(result.sqlite?.payoutMs.p99, 0)} ms`,
  );
  finish(result);
}

await main();
