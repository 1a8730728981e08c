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
// (The shared options are read in bench/kit.mjs at the repository root.)
//
// Exits non-zero only on a correctness failure (journal count, trial balance, posting errors) or
// when a store cannot be benchmarked at all; missed throughput targets are reported, not fatal.

import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createLedger } from "@settlekit/core";
import { knexStore, TABLES } from "@settlekit/store-knex";
import { costSince, meter, walBytesPerUnit, walLsn } from "../../../bench/cost-meter.mjs";
import {
  benchPostgresAndPgbench,
  benchResult,
  checkedSqliteRun,
  finish,
  fmt,
  gc,
  loadWindow,
  log,
  PG_IS_LOCAL,
  percentile,
  positiveNumber,
  printCost,
  printTargets,
  pushPgbenchRows,
  recordError,
  round,
  SECONDS,
  setTargets,
  sqlitePragmas,
  storeHeader,
  storeRow,
  table,
  WARMUP_SECONDS,
  withPgDatabase,
  withSqlite,
  withTempDir,
} from "../../../bench/kit.mjs";

const WRITERS = Math.floor(positiveNumber("BENCH_WRITERS", 8));
const SELLERS = 1000;
const HOT_ACCOUNT = "platform:commission";
const CURRENCY = "USD";
const BENCH_DB = "settlekit_bench";
const PGBENCH_DB = "settlekit_pgbench";
/** Throughput and targets: the ledger's journals/s ≥ 1.0 × pgbench TPC-B tps; SQLite ≥ 5000 journals/s. */
const TARGETS = {
  rateKey: "journalsPerSecond",
  unit: "journals/s",
  ratioName: "ledger_journals_per_s",
  minRatio: 1.0,
  minSqlite: 5000,
  otherSqlite: { sqliteFull: "FULL", sqliteNormal: "NORMAL" },
};

/**
 * `WRITERS` async loops posting journals with unique references for `WARMUP_SECONDS + SECONDS`;
 * journals/s and latencies count the posts that complete inside the measured window.
 */
async function loadLedger(ledger, label) {
  const { runTag, measureFrom, stopAt } = loadWindow(label);
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
        recordError(errors, label, "posting errors", error);
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

async function benchPostgres(admin, serverVersionNum) {
  log(`\n== PostgreSQL ledger: ${WRITERS} writers, pool ${WRITERS}, database ${BENCH_DB}`);
  return withPgDatabase(admin, serverVersionNum, BENCH_DB, WRITERS, async (knex) => {
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
    cost.walBytesPerUnit = await walBytesPerUnit(admin, lsn, load.posted);
    // The probe is part of the ledger: the checks count it.
    load.posted += 1;
    load.hotCredits += 1n;
    const check = await verify(store, ledger, load);
    printRun("postgres", load, check, cost);
    log(`  statements per journal (BEGIN/COMMIT included): ${statements}`);
    return { ...summary(load), statementsPerJournal: statements, cost, verify: check };
  });
}

// ---------------------------------------------------------------------------------------------
// SQLite

/** `mode`: "default" (whatever the store leaves in effect) or a `PRAGMA synchronous` value. */
async function benchSqlite(dir, mode) {
  const filename = join(dir, `ledger-${mode.toLowerCase()}.sqlite`);
  log(
    `\n== SQLite ledger (${mode === "default" ? "store defaults" : `PRAGMA synchronous = ${mode}`}): ${filename}`,
  );
  return withSqlite(filename, async (knex) => {
    const store = knexStore(knex);
    await store.migrate();
    if (mode !== "default") await knex.raw(`PRAGMA synchronous = ${mode}`);
    const { journalMode, synchronous } = await sqlitePragmas(knex);
    log(`  journal_mode = ${journalMode}, synchronous = ${synchronous} (in effect after migrate)`);
    const ledger = createLedger(store);
    gc();
    const started = meter();
    const load = await loadLedger(ledger, `sqlite-${mode}`);
    const cost = costSince(started, load.posted, { postgres: false });
    const check = await verify(store, ledger, load);
    printRun(`sqlite synchronous=${synchronous}`, load, check, cost);
    return {
      ...summary(load),
      journalMode,
      synchronous,
      storeDefault: mode === "default",
      cost,
      verify: check,
    };
  });
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

async function main() {
  const result = benchResult({ writers: WRITERS }, ["sqliteDefault", "sqliteFull", "sqliteNormal"]);
  log(
    `settlekit ledger benchmark: ${WRITERS} writers, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s measured, ` +
      `${SELLERS} sellers, hot account ${HOT_ACCOUNT}; node ${process.version}, nproc ${result.nproc}`,
  );

  // PostgreSQL, then pgbench on the same server (one after the other, never concurrently).
  await benchPostgresAndPgbench(result, {
    benchStore: benchPostgres,
    pgbenchDatabase: PGBENCH_DB,
    clients: WRITERS,
  });

  // SQLite file: the store's defaults first, then whichever of FULL / NORMAL that was not, so both
  // the durable (FULL) and the relaxed (NORMAL) figure are always reported.
  await withTempDir("settlekit-bench-", async (dir) => {
    const sqlite = (mode) => checkedSqliteRun(result.failures, mode, () => benchSqlite(dir, mode));
    result.sqliteDefault = await sqlite("default");
    const byMode = { [result.sqliteDefault?.synchronous ?? "?"]: result.sqliteDefault };
    for (const mode of ["FULL", "NORMAL"]) {
      if (byMode[mode]) log(`\n== SQLite PRAGMA synchronous = ${mode}: same as the store default run above`);
      else byMode[mode] = await sqlite(mode);
    }
    result.sqliteFull = byMode.FULL ?? null;
    result.sqliteNormal = byMode.NORMAL ?? null;
  });

  setTargets(result, TARGETS);
  const header = storeHeader(["journals/s (tps)", "p50 ms", "p99 ms"], "db CPU ms");
  const ledgerRow = (label, r) =>
    storeRow(label, r, header.length, (run) => [
      fmt(run.journalsPerSecond),
      fmt(run.latencyMs.p50, 2),
      fmt(run.latencyMs.p99, 2),
    ]);
  const rows = [header, ledgerRow(`postgres ledger, ${WRITERS} writers`, result.postgres)];
  pushPgbenchRows(rows, result.pgbench, ["—"]);
  const sqliteLabel = (r, sync) =>
    `sqlite ledger, synchronous=${sync}${r?.storeDefault ? " (store default)" : ""}`;
  rows.push(ledgerRow(sqliteLabel(result.sqliteFull, "FULL"), result.sqliteFull));
  rows.push(ledgerRow(sqliteLabel(result.sqliteNormal, "NORMAL"), result.sqliteNormal));

  log("\n== Results (CPU and WAL per journal | per pgbench transaction, warm-up included)");
  log(table(rows));
  printTargets(result, TARGETS);
  log(
    "  synchronous=FULL: a committed journal survives power loss. synchronous=NORMAL in WAL mode: the last " +
      "commits may be lost on power loss (not on a process crash); the database is never corrupted.",
  );
  finish(result);
}

await main();
