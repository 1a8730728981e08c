// Ledger write benchmark: `npm run bench:ledger` (builds first, then runs this file).
//
// Posts 2-posting journals (debit `seller:S<n>:available`, credit the hot `platform:commission`)
// with 8 concurrent writers on PostgreSQL and on a SQLite file, prints journals/s and per-post
// latency, and — when `pgbench` is on the PATH — runs pgbench TPC-B (scale 10, 8 clients, same
// duration) against the same server afterwards and prints `ledger_journals_per_s / pgbench_tps`.
//
// Environment:
//   SETTLEKIT_PG_URL        admin connection (default postgres://postgres@127.0.0.1:5432/test); the
//                           benchmark creates and drops its own databases on that server
//   BENCH_SECONDS           measured seconds per run (default 10)
//   BENCH_WARMUP_SECONDS    warm-up seconds before each measured run (default 2)
//   BENCH_WRITERS           concurrent writer loops (default 8)
//   BENCH_PGBENCH_PREPARED  0 to skip the extra `pgbench -M prepared` run (default 1)
//   PGBENCH                 pgbench executable (default `pgbench` from the PATH)
//
// Exits non-zero only on a correctness failure (journal count, trial balance, posting errors) or
// when a store cannot be benchmarked at all; missed throughput targets are reported, not fatal.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { createLedger } from "@settlekit/core";
import { knexStore, TABLES } from "@settlekit/store-knex";
import knexFactory from "knex";
import { costSince, meter, walBytesSince, walLsn } from "./cost-meter.mjs";

const run = promisify(execFile);

const PG_URL = process.env.SETTLEKIT_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const SECONDS = positiveNumber("BENCH_SECONDS", 10);
const WARMUP_SECONDS = positiveNumber("BENCH_WARMUP_SECONDS", 2, true);
const WRITERS = Math.floor(positiveNumber("BENCH_WRITERS", 8));
const PGBENCH = process.env.PGBENCH ?? "pgbench";
const PGBENCH_PREPARED = process.env.BENCH_PGBENCH_PREPARED !== "0";
const SELLERS = 1000;
const HOT_ACCOUNT = "platform:commission";
const CURRENCY = "USD";
const BENCH_DB = "settlekit_bench";
const PGBENCH_DB = "settlekit_pgbench";
const PGBENCH_SCALE = 10;
const TARGET_PG_RATIO = 1.0;
const TARGET_SQLITE_JPS = 5000;
// Server CPU is read from this machine's /proc: only meaningful when the server runs here.
const PG_IS_LOCAL = ["localhost", "127.0.0.1", "[::1]", ""].includes(new URL(PG_URL).hostname);

function positiveNumber(name, fallback, allowZero = false) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new Error(`${name} must be a ${allowZero ? "non-negative" : "positive"} number, got "${raw}"`);
  }
  return value;
}

const log = (...args) => console.log(...args);
const gc = () => globalThis.gc?.();
const round = (value, digits = 1) => (value == null ? null : Number(value.toFixed(digits)));
const errorText = (error) => (error instanceof Error ? error.message : String(error));

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/**
 * `WRITERS` async loops posting journals with unique references for `WARMUP_SECONDS + SECONDS`;
 * journals/s and latencies count the posts that complete inside the measured window.
 */
async function loadLedger(ledger, label) {
  const runTag = `${label}-${randomBytes(4).toString("hex")}`;
  const start = performance.now();
  const measureFrom = start + WARMUP_SECONDS * 1000;
  const stopAt = measureFrom + SECONDS * 1000;
  const latencies = [];
  const errors = [];
  let posted = 0; // successful posts, warm-up included: the journal count must match it
  let measured = 0;
  let hotCredits = 0n; // sum of amounts credited to the hot account

  async function writer(w) {
    for (let i = 0; ; i++) {
      const begun = performance.now();
      if (begun >= stopAt) return;
      const amount = BigInt(1 + Math.floor(Math.random() * 10_000));
      const seller = `seller:S${1 + Math.floor(Math.random() * SELLERS)}:available`;
      try {
        const result = await ledger.post({
          reference: `bench:${runTag}:w${w}:${i}`,
          kind: "bench_fee",
          postings: [
            { account: seller, currency: CURRENCY, direction: "debit", amount },
            { account: HOT_ACCOUNT, currency: CURRENCY, direction: "credit", amount },
          ],
        });
        if (!result.created) throw new Error(`reference bench:${runTag}:w${w}:${i} was not created`);
      } catch (error) {
        errors.push(errorText(error));
        if (errors.length >= 100)
          throw new Error(`${label}: too many posting errors, last: ${errorText(error)}`);
        continue;
      }
      posted++;
      hotCredits += amount;
      const done = performance.now();
      if (begun >= measureFrom && done <= stopAt) {
        measured++;
        latencies.push(done - begun);
      } else if (done > measureFrom && done <= stopAt) {
        measured++; // completed in the window (started during warm-up): counts for throughput only
      }
    }
  }

  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  latencies.sort((a, b) => a - b);
  return {
    journalsPerSecond: measured / SECONDS,
    measured,
    posted,
    hotCredits,
    errors,
    latencyMs: {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? null,
      samples: latencies.length,
    },
  };
}

/** Journal count = successful posts, trial balance 0, hot account credits = what was posted. */
async function verify(store, ledger, load) {
  const problems = [];
  const [row] = await store.knex(TABLES.journals).count({ n: "*" });
  const journals = Number(row?.n);
  if (journals !== load.posted) problems.push(`journal count ${journals} ≠ successful posts ${load.posted}`);
  const trial = await ledger.trialBalance();
  const trialUsd = trial.get(CURRENCY) ?? 0n;
  for (const [currency, total] of trial) {
    if (total !== 0n) problems.push(`trial balance ${currency} = ${total} ≠ 0`);
  }
  const hot = await ledger.balance(HOT_ACCOUNT, CURRENCY);
  if (hot.credits !== load.hotCredits || hot.debits !== 0n) {
    problems.push(`${HOT_ACCOUNT} credits ${hot.credits} ≠ posted ${load.hotCredits}`);
  }
  if (load.errors.length > 0) problems.push(`${load.errors.length} posts failed, first: ${load.errors[0]}`);
  return { journals, trialBalance: trialUsd.toString(), ok: problems.length === 0, problems };
}

function printCost(cost, unit) {
  if (!cost) return;
  const parts = [`node ${cost.nodeCpuMsPerUnit ?? "?"} ms`];
  if (cost.childCpuMsPerUnit != null && unit === "transaction")
    parts[0] = `pgbench ${cost.childCpuMsPerUnit} ms`;
  if (cost.postgresCpuMsPerUnit != null) parts.push(`postgres ${cost.postgresCpuMsPerUnit} ms`);
  const wal = cost.walBytesPerUnit != null ? `, WAL ${cost.walBytesPerUnit} B/${unit}` : "";
  const busy =
    cost.machineBusyPercent != null
      ? `; machine CPU busy ${cost.machineBusyPercent}% (steal ${cost.machineStealPercent}%)`
      : "";
  log(`  cost: CPU per ${unit}: ${parts.join(", ")}${wal}${busy}`);
}

function printRun(label, load, check, cost) {
  const { p50, p99 } = load.latencyMs;
  log(
    `  ${label}: ${round(load.journalsPerSecond)} journals/s (${load.measured} in ${SECONDS} s), ` +
      `p50 ${round(p50, 2)} ms, p99 ${round(p99, 2)} ms`,
  );
  printCost(cost, "journal");
  log(
    `  verify: journals ${check.journals} / posted ${load.posted}, trial balance ${check.trialBalance} → ` +
      `${check.ok ? "OK" : `FAILED: ${check.problems.join("; ")}`}`,
  );
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

function pgUrlFor(database) {
  const url = new URL(PG_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

const pgKnex = (connection, max) => knexFactory({ client: "pg", connection, pool: { min: 0, max } });

async function dropDatabase(admin, name, serverVersionNum) {
  const force = serverVersionNum >= 130000 ? " WITH (FORCE)" : "";
  await admin.raw(`DROP DATABASE IF EXISTS ??${force}`, [name]);
}

async function benchPostgres(admin, serverVersionNum) {
  log(`\n== PostgreSQL ledger: ${WRITERS} writers, pool ${WRITERS}, database ${BENCH_DB}`);
  await dropDatabase(admin, BENCH_DB, serverVersionNum);
  await admin.raw("CREATE DATABASE ??", [BENCH_DB]);
  const knex = knexFactory({
    client: "pg",
    connection: pgUrlFor(BENCH_DB),
    pool: { min: WRITERS, max: WRITERS },
  });
  try {
    const store = knexStore(knex);
    await store.migrate();
    const ledger = createLedger(store);

    // Statements per journal, counted on one post outside the timed run (knex `query` events).
    let statements = 0;
    const count = () => {
      statements++;
    };
    knex.on("query", count);
    await ledger.post({
      reference: "bench:probe",
      kind: "bench_fee",
      postings: [
        { account: "seller:S0:available", currency: CURRENCY, direction: "debit", amount: 1n },
        { account: HOT_ACCOUNT, currency: CURRENCY, direction: "credit", amount: 1n },
      ],
    });
    knex.off("query", count);
    gc();
    const lsn = await walLsn(admin);
    const started = meter();
    const load = await loadLedger(ledger, "pg");
    const cost = costSince(started, load.posted, { postgres: PG_IS_LOCAL });
    cost.walBytesPerUnit = load.posted ? Math.round((await walBytesSince(admin, lsn)) / load.posted) : null;
    // The probe is part of the ledger: the checks count it.
    load.posted += 1;
    load.hotCredits += 1n;
    const check = await verify(store, ledger, load);
    printRun("postgres", load, check, cost);
    log(`  statements per journal (BEGIN/COMMIT included): ${statements}`);
    return { ...summary(load), statementsPerJournal: statements, cost, verify: check };
  } finally {
    await knex.destroy();
    await dropDatabase(admin, BENCH_DB, serverVersionNum);
  }
}

function pgbenchArgs(database) {
  const url = new URL(pgUrlFor(database));
  const args = [];
  if (url.hostname) args.push("-h", url.hostname.replace(/^\[|\]$/g, ""));
  if (url.port) args.push("-p", url.port);
  if (url.username) args.push("-U", decodeURIComponent(url.username));
  const env = { ...process.env };
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  return { connArgs: args, env, database };
}

async function pgbenchAvailable() {
  try {
    const { stdout } = await run(PGBENCH, ["--version"]);
    return stdout.trim();
  } catch {
    return null;
  }
}

function parsePgbench(output) {
  const tps =
    /tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)/.exec(output);
  const processed = /number of transactions actually processed: (\d+)/.exec(output);
  const latency = /latency average = ([\d.]+) ms/.exec(output);
  const failed = /number of failed transactions: (\d+)/.exec(output);
  if (!tps) throw new Error(`cannot find "tps = …" in pgbench output:\n${output}`);
  return {
    tps: Number(tps[1]),
    transactions: processed ? Number(processed[1]) : null,
    latencyAvgMs: latency ? Number(latency[1]) : null,
    failedTransactions: failed ? Number(failed[1]) : 0,
  };
}

async function benchPgbench(admin, serverVersionNum, version) {
  log(`\n== pgbench TPC-B: scale ${PGBENCH_SCALE}, ${WRITERS} clients, ${SECONDS} s (${version})`);
  await dropDatabase(admin, PGBENCH_DB, serverVersionNum);
  await admin.raw("CREATE DATABASE ??", [PGBENCH_DB]);
  const { connArgs, env, database } = pgbenchArgs(PGBENCH_DB);
  const pgbench = (args) =>
    run(PGBENCH, [...connArgs, ...args, database], { env, maxBuffer: 64 * 1024 * 1024 });
  const threads = String(Math.max(1, Math.min(2, WRITERS)));
  const clients = ["-c", String(WRITERS), "-j", threads];
  const measured = async (mode) => {
    gc();
    const lsn = await walLsn(admin);
    const started = meter();
    const { stdout } = await pgbench(["-n", ...clients, "-T", String(Math.ceil(SECONDS)), "-M", mode]);
    const result = parsePgbench(stdout);
    const cost = costSince(started, result.transactions ?? 0, { postgres: PG_IS_LOCAL });
    cost.walBytesPerUnit = result.transactions
      ? Math.round((await walBytesSince(admin, lsn)) / result.transactions)
      : null;
    log(`  -M ${mode}: ${round(result.tps)} tps, latency avg ${result.latencyAvgMs} ms`);
    printCost(cost, "transaction");
    return { ...result, cost };
  };
  try {
    const init = performance.now();
    await pgbench(["-i", "-q", "-s", String(PGBENCH_SCALE)]);
    log(`  initialised in ${round((performance.now() - init) / 1000)} s`);
    // Same warm-up as the ledger runs: a short untimed run first (it also vacuums).
    if (WARMUP_SECONDS > 0) await pgbench([...clients, "-T", String(Math.ceil(WARMUP_SECONDS))]);
    const simple = await measured("simple");
    const prepared = PGBENCH_PREPARED ? await measured("prepared") : null;
    return { version, scale: PGBENCH_SCALE, clients: WRITERS, threads: Number(threads), simple, prepared };
  } finally {
    await dropDatabase(admin, PGBENCH_DB, serverVersionNum);
  }
}

// ---------------------------------------------------------------------------------------------
// SQLite

const SYNCHRONOUS = ["OFF", "NORMAL", "FULL", "EXTRA"];

/** `mode`: "default" (whatever the store leaves in effect) or a `PRAGMA synchronous` value. */
async function benchSqlite(dir, mode) {
  const filename = join(dir, `ledger-${mode.toLowerCase()}.sqlite`);
  log(
    `\n== SQLite ledger (${mode === "default" ? "store defaults" : `PRAGMA synchronous = ${mode}`}): ${filename}`,
  );
  const knex = knexFactory({ client: "better-sqlite3", connection: { filename }, useNullAsDefault: true });
  try {
    const store = knexStore(knex);
    await store.migrate();
    if (mode !== "default") await knex.raw(`PRAGMA synchronous = ${mode}`);
    const [journal] = await knex.raw("PRAGMA journal_mode");
    const [sync] = await knex.raw("PRAGMA synchronous");
    const synchronous = SYNCHRONOUS[Number(sync?.synchronous)] ?? String(sync?.synchronous);
    log(`  journal_mode = ${journal?.journal_mode}, synchronous = ${synchronous} (in effect after migrate)`);
    const ledger = createLedger(store);
    gc();
    const started = meter();
    const load = await loadLedger(ledger, `sqlite-${mode}`);
    const cost = costSince(started, load.posted, { postgres: false });
    const check = await verify(store, ledger, load);
    printRun(`sqlite synchronous=${synchronous}`, load, check, cost);
    return {
      ...summary(load),
      journalMode: journal?.journal_mode,
      synchronous,
      storeDefault: mode === "default",
      cost,
      verify: check,
    };
  } finally {
    await knex.destroy();
  }
}

function summary(load) {
  return {
    journalsPerSecond: round(load.journalsPerSecond),
    measuredJournals: load.measured,
    postedJournals: load.posted,
    errors: load.errors.length,
    latencyMs: {
      p50: round(load.latencyMs.p50, 3),
      p99: round(load.latencyMs.p99, 3),
      max: round(load.latencyMs.max, 3),
      samples: load.latencyMs.samples,
    },
  };
}

// ---------------------------------------------------------------------------------------------

function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows
    .map((r, i) => {
      const line = r.map((cell, c) =>
        c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]),
      );
      const text = `| ${line.join(" | ")} |`;
      return i === 0 ? `${text}\n|${widths.map((w) => "-".repeat(w + 2)).join("|")}|` : text;
    })
    .join("\n");
}

const fmt = (value, digits = 1) => (value == null ? "—" : round(value, digits).toLocaleString("en-US"));

async function main() {
  const nproc = typeof availableParallelism === "function" ? availableParallelism() : cpus().length;
  log(
    `settlekit ledger benchmark: ${WRITERS} writers, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s measured, ` +
      `${SELLERS} sellers, hot account ${HOT_ACCOUNT}; node ${process.version}, nproc ${nproc}`,
  );
  const result = {
    nproc,
    node: process.version,
    cpu: cpus()[0]?.model ?? null,
    loadAverage: loadavg().map((x) => round(x, 2)),
    writers: WRITERS,
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    pgServerVersion: null,
    pgSettings: null,
    postgres: null,
    pgbench: null,
    ratio: null,
    ratioPrepared: null,
    sqliteDefault: null,
    sqliteFull: null,
    sqliteNormal: null,
    targets: {},
    failures: [],
  };

  // PostgreSQL, then pgbench on the same server (one after the other, never concurrently).
  const admin = pgKnex(PG_URL, 1);
  try {
    const { rows } = await admin.raw(
      "SELECT current_setting('server_version') AS version, current_setting('server_version_num')::int AS num, " +
        "current_setting('synchronous_commit') AS synchronous_commit, current_setting('fsync') AS fsync, " +
        "current_setting('shared_buffers') AS shared_buffers",
    );
    const server = rows[0];
    result.pgServerVersion = server.version;
    result.pgSettings = {
      synchronous_commit: server.synchronous_commit,
      fsync: server.fsync,
      shared_buffers: server.shared_buffers,
    };
    log(
      `PostgreSQL ${server.version} (synchronous_commit=${server.synchronous_commit}, fsync=${server.fsync}, ` +
        `shared_buffers=${server.shared_buffers})`,
    );
    try {
      result.postgres = await benchPostgres(admin, server.num);
      if (!result.postgres.verify.ok) {
        result.failures.push(`postgres: ${result.postgres.verify.problems.join("; ")}`);
      }
    } catch (error) {
      result.failures.push(`postgres: ${errorText(error)}`);
      console.error(`postgres run failed: ${error instanceof Error ? error.stack : error}`);
    }
    const version = await pgbenchAvailable();
    if (!version) {
      log(`\n== pgbench: "${PGBENCH}" is not on the PATH; skipping TPC-B and the ratio`);
    } else {
      try {
        result.pgbench = await benchPgbench(admin, server.num, version);
      } catch (error) {
        console.error(`pgbench run failed (ratio not reported): ${errorText(error)}`);
        result.pgbench = { error: errorText(error) };
      }
    }
  } catch (error) {
    result.failures.push(`postgres: ${errorText(error)}`);
    console.error(`PostgreSQL at ${PG_URL} is not usable (set SETTLEKIT_PG_URL): ${errorText(error)}`);
  } finally {
    await admin.destroy();
  }

  // SQLite file: the store's defaults first, then whichever of FULL / NORMAL that was not, so both
  // the durable (FULL) and the relaxed (NORMAL) figure are always reported.
  const dir = mkdtempSync(join(tmpdir(), "settlekit-bench-"));
  try {
    const sqlite = async (mode) => {
      try {
        const r = await benchSqlite(dir, mode);
        if (!r.verify.ok) result.failures.push(`sqlite ${r.synchronous}: ${r.verify.problems.join("; ")}`);
        return r;
      } catch (error) {
        result.failures.push(`sqlite ${mode}: ${errorText(error)}`);
        console.error(`sqlite ${mode} run failed: ${error instanceof Error ? error.stack : error}`);
        return null;
      }
    };
    result.sqliteDefault = await sqlite("default");
    const byMode = { [result.sqliteDefault?.synchronous ?? "?"]: result.sqliteDefault };
    for (const mode of ["FULL", "NORMAL"]) {
      if (byMode[mode]) log(`\n== SQLite PRAGMA synchronous = ${mode}: same as the store default run above`);
      else byMode[mode] = await sqlite(mode);
    }
    result.sqliteFull = byMode.FULL ?? null;
    result.sqliteNormal = byMode.NORMAL ?? null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // Ratio and targets.
  const pgJps = result.postgres?.journalsPerSecond ?? null;
  const tps = result.pgbench?.simple?.tps ?? null;
  const tpsPrepared = result.pgbench?.prepared?.tps ?? null;
  if (pgJps != null && tps) result.ratio = round(pgJps / tps, 3);
  if (pgJps != null && tpsPrepared) result.ratioPrepared = round(pgJps / tpsPrepared, 3);
  const sqliteTarget = (r) => ({
    target: `>= ${TARGET_SQLITE_JPS} journals/s`,
    value: r?.journalsPerSecond ?? null,
    met: r ? r.journalsPerSecond >= TARGET_SQLITE_JPS : null,
  });
  result.targets = {
    postgresRatio: {
      target: `>= ${TARGET_PG_RATIO}`,
      value: result.ratio,
      met: result.ratio == null ? null : result.ratio >= TARGET_PG_RATIO,
    },
    sqliteStoreDefault: {
      ...sqliteTarget(result.sqliteDefault),
      synchronous: result.sqliteDefault?.synchronous,
    },
    sqliteFull: sqliteTarget(result.sqliteFull),
    sqliteNormal: sqliteTarget(result.sqliteNormal),
  };

  const metText = (met) => (met == null ? "n/a" : met ? "met" : "NOT met");
  const rows = [
    ["run", "journals/s (tps)", "p50 ms", "p99 ms", "node CPU ms", "db CPU ms", "WAL B", "check"],
  ];
  const ledgerRow = (label, r) =>
    r
      ? [
          label,
          fmt(r.journalsPerSecond),
          fmt(r.latencyMs.p50, 2),
          fmt(r.latencyMs.p99, 2),
          fmt(r.cost?.nodeCpuMsPerUnit, 3),
          fmt(r.cost?.postgresCpuMsPerUnit, 3),
          fmt(r.cost?.walBytesPerUnit, 0),
          r.verify.ok ? "ok" : "FAIL",
        ]
      : [label, "failed", "—", "—", "—", "—", "—", "—"];
  const pgbenchRow = (label, r) => [
    label,
    fmt(r.tps),
    `avg ${fmt(r.latencyAvgMs, 2)}`,
    "—",
    `${fmt(r.cost?.childCpuMsPerUnit, 3)} (C)`,
    fmt(r.cost?.postgresCpuMsPerUnit, 3),
    fmt(r.cost?.walBytesPerUnit, 0),
    r.failedTransactions === 0 ? "ok" : `${r.failedTransactions} failed`,
  ];
  rows.push(ledgerRow(`postgres ledger, ${WRITERS} writers`, result.postgres));
  if (result.pgbench?.simple) rows.push(pgbenchRow("pgbench TPC-B -M simple", result.pgbench.simple));
  if (result.pgbench?.prepared) rows.push(pgbenchRow("pgbench TPC-B -M prepared", result.pgbench.prepared));
  const sqliteLabel = (r, sync) =>
    `sqlite ledger, synchronous=${sync}${r?.storeDefault ? " (store default)" : ""}`;
  rows.push(ledgerRow(sqliteLabel(result.sqliteFull, "FULL"), result.sqliteFull));
  rows.push(ledgerRow(sqliteLabel(result.sqliteNormal, "NORMAL"), result.sqliteNormal));

  log("\n== Results (CPU and WAL per journal | per pgbench transaction, warm-up included)");
  log(table(rows));
  log(
    `\nratio ledger_journals_per_s / pgbench_tps = ${result.ratio ?? "n/a"}` +
      (result.ratioPrepared != null ? ` (vs -M prepared: ${result.ratioPrepared})` : "") +
      ` — target >= ${TARGET_PG_RATIO}: ${metText(result.targets.postgresRatio.met)}`,
  );
  log(
    `sqlite store default (synchronous=${result.sqliteDefault?.synchronous ?? "?"}): ` +
      `${fmt(result.sqliteDefault?.journalsPerSecond)} journals/s — target >= ${TARGET_SQLITE_JPS}: ` +
      `${metText(result.targets.sqliteStoreDefault.met)}; FULL ${fmt(result.sqliteFull?.journalsPerSecond)}: ` +
      `${metText(result.targets.sqliteFull.met)}; NORMAL ${fmt(result.sqliteNormal?.journalsPerSecond)}: ` +
      `${metText(result.targets.sqliteNormal.met)}`,
  );
  log(
    "  synchronous=FULL: a committed journal survives power loss. synchronous=NORMAL in WAL mode: the last " +
      "commits may be lost on power loss (not on a process crash); the database is never corrupted.",
  );
  log(`correctness: ${result.failures.length === 0 ? "all checks passed" : result.failures.join(" | ")}`);
  log(`BENCH_RESULT ${JSON.stringify(result)}`);
  if (result.failures.length > 0) process.exitCode = 1;
}

await main();
