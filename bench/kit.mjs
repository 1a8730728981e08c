// Shared pieces of the settlekit benchmarks (`packages/store-knex/bench/ledger-bench.mjs` and
// `tests/integration/bench/lifecycle-bench.mjs`): the common environment options, statistics and
// number formatting, PostgreSQL and SQLite helpers, the pgbench TPC-B reference run, and the
// printed cost lines, results table, ratio and BENCH_RESULT line.
//
// Environment read here (for both benchmarks):
//   SETTLEKIT_PG_URL        admin connection (default postgres://postgres@127.0.0.1:5432/test)
//   BENCH_SECONDS           measured seconds per run (default 10)
//   BENCH_WARMUP_SECONDS    warm-up seconds before each measured run (default 2)
//   BENCH_PGBENCH_PREPARED  0 to skip the extra `pgbench -M prepared` run (default 1)
//   PGBENCH                 pgbench executable (default `pgbench` from the PATH)

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import knexFactory from "knex";
import { costSince, meter, walBytesPerUnit, walLsn } from "./cost-meter.mjs";

const run = promisify(execFile);

// ---------------------------------------------------------------------------------------------
// Environment

/**
 * The number in environment variable `name`, or `fallback` when it is unset or empty; throws when
 * it is not a positive number (or, with `allowZero`, a non-negative one).
 * @param {string} name
 * @param {number} fallback
 * @param {boolean} [allowZero]
 * @returns {number}
 */
export function positiveNumber(name, fallback, allowZero = false) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new Error(`${name} must be a ${allowZero ? "non-negative" : "positive"} number, got "${raw}"`);
  }
  return value;
}

/** Admin connection URL; each benchmark creates and drops its own databases on that server. */
export const PG_URL = process.env.SETTLEKIT_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
/** Measured seconds per run. */
export const SECONDS = positiveNumber("BENCH_SECONDS", 10);
/** Warm-up seconds before each measured run (0 allowed). */
export const WARMUP_SECONDS = positiveNumber("BENCH_WARMUP_SECONDS", 2, true);
/** The pgbench executable. */
// biome-ignore lint/suspicious/noUndeclaredEnvVars: a benchmark option; turbo's `bench` task is never cached
export const PGBENCH = process.env.PGBENCH ?? "pgbench";
/** Whether pgbench also runs with `-M prepared`. */
// biome-ignore lint/suspicious/noUndeclaredEnvVars: a benchmark option; turbo's `bench` task is never cached
export const PGBENCH_PREPARED = process.env.BENCH_PGBENCH_PREPARED !== "0";
/** pgbench TPC-B scale factor. */
export const PGBENCH_SCALE = 10;
/** Server CPU is read from this machine's /proc: only meaningful when the server runs here. */
export const PG_IS_LOCAL = ["localhost", "127.0.0.1", "[::1]", ""].includes(new URL(PG_URL).hostname);

// ---------------------------------------------------------------------------------------------
// Small helpers

/** `console.log`. */
export const log = (...args) => console.log(...args);
/** Runs a garbage collection when Node was started with `--expose-gc`, else nothing. */
export const gc = () => globalThis.gc?.();
/** `value` rounded to `digits` decimals (a number), or null for null/undefined. */
export const round = (value, digits = 1) => (value == null ? null : Number(value.toFixed(digits)));
/** An error's message (or the thrown value as a string). */
export const errorText = (error) => (error instanceof Error ? error.message : String(error));
/** `value` rounded and grouped for a table cell (`1,234.5`), or "—" for null/undefined. */
export const fmt = (value, digits = 1) =>
  value == null ? "—" : round(value, digits).toLocaleString("en-US");
/** "met", "NOT met" or, for null, "n/a". */
export const metText = (met) => (met == null ? "n/a" : met ? "met" : "NOT met");

/**
 * The `p`-th percentile (nearest rank) of an ascending array, or null when it is empty.
 * @param {number[]} sorted
 * @param {number} p 0–100
 */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/**
 * Sorts `values` (in place) and summarises them: p50, p99 and max rounded to 3 decimals, and the
 * sample count.
 * @param {number[]} values
 */
export function latencySummary(values) {
  values.sort((a, b) => a - b);
  return {
    p50: round(percentile(values, 50), 3),
    p99: round(percentile(values, 99), 3),
    max: round(values.at(-1) ?? null, 3),
    samples: values.length,
  };
}

/**
 * The time window of one load run started now: `WARMUP_SECONDS` of warm-up from `start` to
 * `measureFrom`, then `SECONDS` measured up to `stopAt` (performance.now() milliseconds), and a
 * unique `runTag` (`label` plus random hex) for the references the run creates.
 * @param {string} label
 */
export function loadWindow(label) {
  const runTag = `${label}-${randomBytes(4).toString("hex")}`;
  const start = performance.now();
  const measureFrom = start + WARMUP_SECONDS * 1000;
  const stopAt = measureFrom + SECONDS * 1000;
  return { runTag, start, measureFrom, stopAt };
}

/**
 * This machine and Node, the first fields of a BENCH_RESULT: nproc, node version, CPU model and
 * load averages.
 */
export function machineInfo() {
  const nproc = typeof availableParallelism === "function" ? availableParallelism() : cpus().length;
  return {
    nproc,
    node: process.version,
    cpu: cpus()[0]?.model ?? null,
    loadAverage: loadavg().map((x) => round(x, 2)),
  };
}

/**
 * The BENCH_RESULT skeleton, in its printed key order: `machineInfo()`, the benchmark's `params`,
 * seconds, warm-up seconds, the PostgreSQL / pgbench / ratio fields, one field per SQLite run in
 * `sqliteKeys` (all null until set), `targets` and `failures`.
 * @param {Record<string, unknown>} params
 * @param {string[]} sqliteKeys e.g. ["sqliteDefault", "sqliteNormal"]
 */
export function benchResult(params, sqliteKeys) {
  return {
    ...machineInfo(),
    ...params,
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    pgServerVersion: null,
    pgSettings: null,
    postgres: null,
    pgbench: null,
    ratio: null,
    ratioPrepared: null,
    ...Object.fromEntries(sqliteKeys.map((key) => [key, null])),
    targets: {},
    failures: [],
  };
}

/**
 * Runs one benchmark `fn`; a result whose `verify.ok` is false, or a throw, is recorded in
 * `failures` (as `label: …`, or `labelOf(result): …` for a failed verification) and a throw also
 * printed to stderr. Returns the result, or null when `fn` threw.
 * @template {{ verify: { ok: boolean, problems: string[] } }} R
 * @param {string[]} failures
 * @param {string} label
 * @param {() => Promise<R>} fn
 * @param {(result: R) => string} [labelOf]
 * @returns {Promise<R | null>}
 */
export async function checkedRun(failures, label, fn, labelOf = () => label) {
  try {
    await settleDisk();
    const r = await fn();
    if (!r.verify.ok) failures.push(`${labelOf(r)}: ${r.verify.problems.join("; ")}`);
    return r;
  } catch (error) {
    failures.push(`${label}: ${errorText(error)}`);
    console.error(`${label} run failed: ${error instanceof Error ? error.stack : error}`);
    return null;
  }
}

/**
 * Writes the machine's dirty pages to disk (`sync`) before a measured run, so a run does not pay
 * for the writeback of the one before it (SQLite's synced commits wait on the same disk: runs
 * right after a pgbench run or an `npm ci` came out up to 38 % lower). Best effort.
 */
export async function settleDisk() {
  await run("sync", []).catch(() => undefined);
}

/**
 * Records the message of a failed operation (a post, a lifecycle) in `errors`; throws once 100 have
 * failed (`<label>: too many <what>, last: …`), which ends the run.
 * @param {string[]} errors
 * @param {string} label
 * @param {string} what e.g. "posting errors"
 * @param {unknown} error
 */
export function recordError(errors, label, what, error) {
  errors.push(errorText(error));
  if (errors.length >= 100) throw new Error(`${label}: too many ${what}, last: ${errorText(error)}`);
}

/**
 * Runs `fn(dir)` with a fresh temporary directory named `prefix…`, removed afterwards.
 * @template T
 * @param {string} prefix
 * @param {(dir: string) => Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function withTempDir(prefix, fn) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/** `PG_URL` with its database replaced by `database`. */
export function pgUrlFor(database) {
  const url = new URL(PG_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A knex instance on the pg client with a pool of `min`…`max` connections. */
export const pgKnex = (connection, max, min = 0) =>
  knexFactory({ client: "pg", connection, pool: { min, max } });

/** `DROP DATABASE IF EXISTS name`, with `WITH (FORCE)` on PostgreSQL 13 and later. */
export async function dropDatabase(admin, name, serverVersionNum) {
  const force = serverVersionNum >= 130000 ? " WITH (FORCE)" : "";
  await admin.raw(`DROP DATABASE IF EXISTS ??${force}`, [name]);
}

/** Drops `name` if it exists, then creates it empty. */
async function recreateDatabase(admin, name, serverVersionNum) {
  await dropDatabase(admin, name, serverVersionNum);
  await admin.raw("CREATE DATABASE ??", [name]);
}

/**
 * Creates `database` afresh, runs `fn(knex)` over a pool of exactly `pool` connections to it, then
 * closes the pool and drops the database (also when `fn` throws).
 * @template T
 * @param {import("knex").Knex} admin
 * @param {number} serverVersionNum
 * @param {string} database
 * @param {number} pool
 * @param {(knex: import("knex").Knex) => Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function withPgDatabase(admin, serverVersionNum, database, pool, fn) {
  await recreateDatabase(admin, database, serverVersionNum);
  const knex = pgKnex(pgUrlFor(database), pool, pool);
  try {
    return await fn(knex);
  } finally {
    await knex.destroy();
    await dropDatabase(admin, database, serverVersionNum);
  }
}

/**
 * On the admin connection at `PG_URL`: records the server's version and durability settings in
 * `result` (and prints them), runs `benchStore(admin, serverVersionNum)` into `result.postgres`
 * (via `checkedRun`), then — unless `runPgbench` is false — pgbench TPC-B with `clients` clients
 * in database `pgbenchDatabase` into `result.pgbench`, one after the other. A server that cannot be used is a failure; pgbench
 * missing or failing is not.
 * @param {{ failures: string[], pgServerVersion: unknown, pgSettings: unknown, postgres: unknown, pgbench: unknown }} result
 * @param {{ benchStore: (admin: import("knex").Knex, serverVersionNum: number) => Promise<any>, pgbenchDatabase: string, clients: number, runPgbench?: boolean, serverLabel?: string }} options
 *   `serverLabel`: how the cost lines name the server's CPU (see `printCost`)
 */
export async function benchPostgresAndPgbench(
  result,
  { benchStore, pgbenchDatabase, clients, runPgbench = true, serverLabel },
) {
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
    result.postgres = await checkedRun(result.failures, "postgres", () => benchStore(admin, server.num));
    const version = runPgbench ? await pgbenchAvailable() : null;
    if (!runPgbench) {
      log("\n== pgbench: skipped (BENCH_PGBENCH=0)");
    } else if (!version) {
      log(`\n== pgbench: "${PGBENCH}" is not on the PATH; skipping TPC-B and the ratio`);
    } else {
      try {
        result.pgbench = await benchPgbench(admin, server.num, version, {
          database: pgbenchDatabase,
          clients,
          serverLabel,
        });
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
}

// ---------------------------------------------------------------------------------------------
// pgbench TPC-B

/** pgbench connection arguments (`-h -p -U`) and environment (`PGPASSWORD`) for `database`. */
export function pgbenchArgs(database) {
  const url = new URL(pgUrlFor(database));
  const args = [];
  if (url.hostname) args.push("-h", url.hostname.replace(/^\[|\]$/g, ""));
  if (url.port) args.push("-p", url.port);
  if (url.username) args.push("-U", decodeURIComponent(url.username));
  const env = { ...process.env };
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  return { connArgs: args, env, database };
}

/** `pgbench --version` output, or null when `PGBENCH` cannot be run. */
export async function pgbenchAvailable() {
  try {
    const { stdout } = await run(PGBENCH, ["--version"]);
    return stdout.trim();
  } catch {
    return null;
  }
}

/** tps, transactions, average latency and failed transactions from a pgbench run's output. */
export function parsePgbench(output) {
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

/**
 * pgbench TPC-B in `database` (created afresh here and dropped afterwards): initialised at scale
 * `PGBENCH_SCALE`, an untimed `WARMUP_SECONDS` run, then `SECONDS` measured with `clients` clients
 * in `-M simple` and, unless BENCH_PGBENCH_PREPARED=0, `-M prepared`. Each measured run is printed
 * with its CPU and WAL cost per transaction (`serverLabel`: see `printCost`).
 * @param {import("knex").Knex} admin
 * @param {number} serverVersionNum
 * @param {string} version `pgbench --version` output
 * @param {{ database: string, clients: number, serverLabel?: string }} options
 */
export async function benchPgbench(admin, serverVersionNum, version, { database, clients, serverLabel }) {
  log(`\n== pgbench TPC-B: scale ${PGBENCH_SCALE}, ${clients} clients, ${SECONDS} s (${version})`);
  await recreateDatabase(admin, database, serverVersionNum);
  const { connArgs, env } = pgbenchArgs(database);
  const pgbench = (args) =>
    run(PGBENCH, [...connArgs, ...args, database], { env, maxBuffer: 64 * 1024 * 1024 });
  const threads = String(Math.max(1, Math.min(2, clients)));
  const clientArgs = ["-c", String(clients), "-j", threads];
  const measured = async (mode) => {
    await settleDisk();
    gc();
    const lsn = await walLsn(admin);
    const started = meter();
    const { stdout } = await pgbench(["-n", ...clientArgs, "-T", String(Math.ceil(SECONDS)), "-M", mode]);
    const result = parsePgbench(stdout);
    const cost = costSince(started, result.transactions ?? 0, { postgres: PG_IS_LOCAL });
    cost.walBytesPerUnit = await walBytesPerUnit(admin, lsn, result.transactions);
    log(`  -M ${mode}: ${round(result.tps)} tps, latency avg ${result.latencyAvgMs} ms`);
    printCost(cost, "transaction", { serverLabel });
    return { ...result, cost };
  };
  try {
    const init = performance.now();
    await pgbench(["-i", "-q", "-s", String(PGBENCH_SCALE)]);
    log(`  initialised in ${round((performance.now() - init) / 1000)} s`);
    // Same warm-up as the benchmark's own runs: a short untimed run first (it also vacuums).
    if (WARMUP_SECONDS > 0) await pgbench([...clientArgs, "-T", String(Math.ceil(WARMUP_SECONDS))]);
    const simple = await measured("simple");
    const prepared = PGBENCH_PREPARED ? await measured("prepared") : null;
    return { version, scale: PGBENCH_SCALE, clients, threads: Number(threads), simple, prepared };
  } finally {
    await dropDatabase(admin, database, serverVersionNum);
  }
}

// ---------------------------------------------------------------------------------------------
// SQLite

/** `PRAGMA synchronous` values by number. */
export const SYNCHRONOUS = ["OFF", "NORMAL", "FULL", "EXTRA"];

/**
 * Runs `fn(knex)` over a better-sqlite3 knex on the file `filename`, destroyed afterwards.
 * @template T
 * @param {string} filename
 * @param {(knex: import("knex").Knex) => Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function withSqlite(filename, fn) {
  const knex = knexFactory({ client: "better-sqlite3", connection: { filename }, useNullAsDefault: true });
  try {
    return await fn(knex);
  } finally {
    await knex.destroy();
  }
}

/** The `journal_mode` and `synchronous` (by name, e.g. "FULL") in effect on a SQLite connection. */
export async function sqlitePragmas(knex) {
  const [journal] = await knex.raw("PRAGMA journal_mode");
  const [sync] = await knex.raw("PRAGMA synchronous");
  const synchronous = SYNCHRONOUS[Number(sync?.synchronous)] ?? String(sync?.synchronous);
  return { journalMode: journal?.journal_mode, synchronous };
}

/**
 * `checkedRun` for a SQLite run: a throw is recorded as `sqlite <name>: …`, a failed verification
 * as `sqlite <synchronous>: …`.
 * @param {string[]} failures
 * @param {string} name
 * @param {() => Promise<any>} fn
 */
export function checkedSqliteRun(failures, name, fn) {
  return checkedRun(failures, `sqlite ${name}`, fn, (r) => `sqlite ${r.synchronous}`);
}

// ---------------------------------------------------------------------------------------------
// Printed results

/**
 * Prints one `cost:` line: CPU per `unit` (Node's, or pgbench's for a "transaction"; the
 * benchmark's own server backends when measured; the whole server as `serverLabel`), WAL per unit
 * and how busy the machine was.
 * @param {ReturnType<typeof costSince> & { backendCpuMsPerUnit?: number | null, backends?: number | null, walBytesPerUnit?: number | null } | null} cost
 * @param {string} unit
 * @param {{ serverLabel?: string }} [options] `serverLabel` default "postgres"
 */
export function printCost(cost, unit, { serverLabel = "postgres" } = {}) {
  if (!cost) return;
  const parts = [`node ${cost.nodeCpuMsPerUnit ?? "?"} ms`];
  if (cost.childCpuMsPerUnit != null && unit === "transaction")
    parts[0] = `pgbench ${cost.childCpuMsPerUnit} ms`;
  if (cost.backendCpuMsPerUnit != null)
    parts.push(`postgres (own ${cost.backends} backends) ${cost.backendCpuMsPerUnit} ms`);
  if (cost.postgresCpuMsPerUnit != null) parts.push(`${serverLabel} ${cost.postgresCpuMsPerUnit} ms`);
  const wal = cost.walBytesPerUnit != null ? `, WAL ${cost.walBytesPerUnit} B/${unit}` : "";
  const busy =
    cost.machineBusyPercent != null
      ? `; machine CPU busy ${cost.machineBusyPercent}% (steal ${cost.machineStealPercent}%)`
      : "";
  log(`  cost: CPU per ${unit}: ${parts.join(", ")}${wal}${busy}`);
}

/**
 * A Markdown table: the first row is the header, the first column left-aligned, the others
 * right-aligned.
 * @param {unknown[][]} rows
 * @returns {string}
 */
export function table(rows) {
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

/**
 * The results-table header for store runs: "run", the benchmark's `columns`, then the columns
 * `storeRow` appends: node CPU, `serverCpu` (the server CPU column's title), WAL and the check.
 * @param {string[]} columns
 * @param {string} serverCpu
 */
export function storeHeader(columns, serverCpu) {
  return ["run", ...columns, "node CPU ms", serverCpu, "WAL B", "check"];
}

/**
 * The results-table row of one store run `r`: `label`, the benchmark's cells `cellsOf(r)`, node
 * CPU, server CPU (its own backends when measured, else the whole server), WAL and the check; for
 * a run that failed (null), "failed" and "—" up to `width` cells (the header's).
 * @param {string} label
 * @param {any} r
 * @param {number} width cells in a row
 * @param {(r: any) => unknown[]} cellsOf
 */
export function storeRow(label, r, width, cellsOf) {
  if (!r) return [label, "failed", ...Array.from({ length: width - 2 }, () => "—")];
  return [
    label,
    ...cellsOf(r),
    fmt(r.cost?.nodeCpuMsPerUnit, 3),
    fmt(r.cost?.backendCpuMsPerUnit ?? r.cost?.postgresCpuMsPerUnit, 3),
    fmt(r.cost?.walBytesPerUnit, 0),
    r.verify.ok ? "ok" : "FAIL",
  ];
}

/**
 * Appends the results-table rows of the pgbench runs in `pgbench` (a `benchPgbench` result, or
 * null): tps, average latency, then the cells `middle` (the benchmark's latency / statement
 * columns), pgbench and server CPU, WAL and failed transactions.
 * @param {unknown[][]} rows
 * @param {Awaited<ReturnType<typeof benchPgbench>> | { error: string } | null} pgbench
 * @param {string[]} middle
 */
export function pushPgbenchRows(rows, pgbench, middle) {
  const row = (label, r) => [
    label,
    fmt(r.tps),
    `avg ${fmt(r.latencyAvgMs, 2)}`,
    ...middle,
    `${fmt(r.cost?.childCpuMsPerUnit, 3)} (C)`,
    fmt(r.cost?.postgresCpuMsPerUnit, 3),
    fmt(r.cost?.walBytesPerUnit, 0),
    r.failedTransactions === 0 ? "ok" : `${r.failedTransactions} failed`,
  ];
  if (pgbench?.simple) rows.push(row("pgbench TPC-B -M simple", pgbench.simple));
  if (pgbench?.prepared) rows.push(row("pgbench TPC-B -M prepared", pgbench.prepared));
}

/**
 * What a benchmark measures and its targets, for `setTargets` and `printTargets`.
 * @typedef {object} TargetSpec
 * @property {string} rateKey the throughput field of a run result, e.g. "journalsPerSecond"
 * @property {string} unit its unit, e.g. "journals/s"
 * @property {string} ratioName the throughput in the ratio line, e.g. "ledger_journals_per_s"
 * @property {number} minRatio target for postgres throughput / pgbench `-M simple` tps
 * @property {number} minSqlite target for each SQLite run's throughput
 * @property {Record<string, string>} otherSqlite the SQLite runs besides `sqliteDefault` (result
 *   key → name in the printed line), e.g. { sqliteNormal: "NORMAL" }
 */

/**
 * Sets `result.ratio` (and `result.ratioPrepared`): postgres throughput over pgbench's `-M simple`
 * (and `-M prepared`) tps, rounded to 3 decimals, when both figures exist; then `result.targets`:
 * `postgresRatio`, `sqliteStoreDefault` (with its synchronous setting) and one per `otherSqlite` run.
 * @param {Record<string, any>} result a `benchResult`
 * @param {TargetSpec} spec
 */
export function setTargets(result, spec) {
  const perSecond = result.postgres?.[spec.rateKey] ?? null;
  const tps = result.pgbench?.simple?.tps ?? null;
  const tpsPrepared = result.pgbench?.prepared?.tps ?? null;
  if (perSecond != null && tps) result.ratio = round(perSecond / tps, 3);
  if (perSecond != null && tpsPrepared) result.ratioPrepared = round(perSecond / tpsPrepared, 3);
  const sqliteTarget = (run) => ({
    target: `>= ${spec.minSqlite} ${spec.unit}`,
    value: run?.[spec.rateKey] ?? null,
    met: run ? run[spec.rateKey] >= spec.minSqlite : null,
  });
  result.targets = {
    postgresRatio: {
      target: `>= ${spec.minRatio}`,
      value: result.ratio,
      met: result.ratio == null ? null : result.ratio >= spec.minRatio,
    },
    sqliteStoreDefault: {
      ...sqliteTarget(result.sqliteDefault),
      synchronous: result.sqliteDefault?.synchronous,
    },
    ...Object.fromEntries(Object.keys(spec.otherSqlite).map((key) => [key, sqliteTarget(result[key])])),
  };
}

/**
 * Prints the ratio line (`ratio <ratioName> / pgbench_tps = …`) and the SQLite line (the store
 * default's and each other run's throughput, and whether each met its target).
 * @param {Record<string, any>} result a `benchResult` after `setTargets`
 * @param {TargetSpec} spec
 */
export function printTargets(result, spec) {
  const { targets } = result;
  log(
    `\nratio ${spec.ratioName} / pgbench_tps = ${result.ratio ?? "n/a"}` +
      (result.ratioPrepared != null ? ` (vs -M prepared: ${result.ratioPrepared})` : "") +
      ` — target >= ${spec.minRatio}: ${metText(targets.postgresRatio.met)}`,
  );
  const others = Object.entries(spec.otherSqlite).map(
    ([key, name]) => `; ${name} ${fmt(result[key]?.[spec.rateKey])}: ${metText(targets[key].met)}`,
  );
  log(
    `sqlite store default (synchronous=${result.sqliteDefault?.synchronous ?? "?"}): ` +
      `${fmt(result.sqliteDefault?.[spec.rateKey])} ${spec.unit} — target >= ${spec.minSqlite}: ` +
      `${metText(targets.sqliteStoreDefault.met)}${others.join("")}`,
  );
}

/**
 * Prints the correctness line and `BENCH_RESULT <json>`, and sets a non-zero exit code when
 * `result.failures` is not empty.
 * @param {{ failures: string[] }} result
 */
export function finish(result) {
  log(`correctness: ${result.failures.length === 0 ? "all checks passed" : result.failures.join(" | ")}`);
  log(`BENCH_RESULT ${JSON.stringify(result)}`);
  if (result.failures.length > 0) process.exitCode = 1;
}
