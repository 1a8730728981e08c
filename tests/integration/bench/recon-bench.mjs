// Reconciliation benchmark: `npm run bench:recon` (builds first, then runs this file).
//
// On PostgreSQL (its own database, created and dropped): N succeeded payments in the ledger
// (default 1 000 000; bulk-loaded by INSERT … SELECT, see recon-seed.mjs), a matching sandbox
// settlement file written as a stream to a temp file with 0.1 % seeded discrepancies of every class
// (missing_in_ledger, missing_at_psp, amount_mismatch, currency_mismatch, fee_mismatch,
// status_mismatch, duplicate, invalid_row, and pending ones inside the settlement lag), then one
// `system.reconcile` of the file (the matching phase, timed; booking off unless BENCH_BOOK=1). Prints
// records/s, the matching phase's wall time and the process's peak RSS (sampled every 20 ms while
// matching, and the OS's maximum for the whole process), with where the time went: the Node
// process's CPU (`nodeCpuSeconds`), the wall time inside store transactions (`storeSeconds`) and
// the CPU of the Postgres backends serving the bench's database (`pgCpuSeconds`, from /proc:
// Postgres on this host). On a shared machine those CPU figures are the bound, the wall time is not.
//
// Exits non-zero when a seeded discrepancy was not found with its class, anything else was
// reported, or the matched count is off; missed time and memory targets (< 15 s, < 256 MB) are
// reported in BENCH_RESULT, not fatal.
//
// Environment:
//   SETTLEKIT_PG_URL   admin connection (default postgres://postgres@127.0.0.1:5432/test)
//   BENCH_PAYMENTS     payments in the ledger (default 1000000)
//   BENCH_BATCH        records per matching transaction (reconcile's batchSize; default 5000)
//   BENCH_BOOK         1 to book matched records (settlement journals) while matching (default 0)
//   BENCH_KEEP_DB      1 to keep the seeded database afterwards and reuse it when it holds the same
//                      number of payments (its earlier runs are deleted first): for A/B runs
//   BENCH_DATABASE     the database's name (default settlekit_bench_recon_<payments>): A/B runs of
//                      code with different migrations keep one database each

import { createReadStream, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createPaymentSystem, manualClock } from "@settlekit/core";
import { sandboxProvider } from "@settlekit/psp-sandbox";
import { knexStore, TABLES } from "@settlekit/store-knex";
import {
  dropDatabase,
  errorText,
  finish,
  fmt,
  log,
  machineInfo,
  PG_URL,
  pgKnex,
  pgUrlFor,
  positiveNumber,
  round,
  withPgDatabase,
  withTempDir,
} from "../../../bench/kit.mjs";
import {
  checkRun,
  feeOf,
  LAG_MS,
  NOW,
  PERIOD,
  PSP,
  planSeeds,
  seedLedger,
  writeSettlementFile,
} from "./recon-seed.mjs";

const PAYMENTS = Math.floor(positiveNumber("BENCH_PAYMENTS", 1_000_000));
const BATCH = Math.floor(positiveNumber("BENCH_BATCH", 5_000));
const BOOK = process.env.BENCH_BOOK === "1";
const TARGET_SECONDS = 15;
const TARGET_RSS_MB = 256;
const MB = 1024 * 1024;
const KEEP_DB = process.env.BENCH_KEEP_DB === "1";
const DATABASE = process.env.BENCH_DATABASE || `settlekit_bench_recon_${PAYMENTS}`;

const result = {
  ...machineInfo(),
  payments: PAYMENTS,
  batchSize: BATCH,
  book: BOOK,
  pgServerVersion: null,
  seedSeconds: null,
  fileSeconds: null,
  fileLines: null,
  seeded: null,
  matchingSeconds: null,
  nodeCpuSeconds: null,
  storeSeconds: null,
  pgCpuSeconds: null,
  recordsPerSecond: null,
  bound: null,
  peakRssMatchingMB: null,
  maxRssProcessMB: null,
  loadAverageAfter: null,
  run: null,
  targets: {},
  failures: [],
};

/**
 * CPU seconds (user + system) the Postgres backends serving `knex`'s database have used so far,
 * per backend pid, read from /proc (Postgres on this host); null when they cannot be read.
 */
async function backendCpu(knex) {
  const { rows } = await knex.raw("SELECT pid FROM pg_stat_activity WHERE datname = current_database()");
  const out = new Map();
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      out.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      return null;
    }
  }
  return out;
}

/** The bench's database: fresh (dropped afterwards), or with BENCH_KEEP_DB=1 kept and reused when seeded alike. */
async function database(admin, version, fn) {
  if (!KEEP_DB) return withPgDatabase(admin, version, DATABASE, 2, (knex) => fn(knex, false));
  const exists = (await admin.raw("SELECT 1 FROM pg_database WHERE datname = ?", [DATABASE])).rows.length > 0;
  let seeded = false;
  if (exists) {
    const probe = pgKnex(pgUrlFor(DATABASE), 1);
    const found = await probe.raw(`SELECT count(*)::int AS n FROM ${TABLES.payments}`).catch(() => null);
    await probe.destroy();
    seeded = found?.rows[0]?.n === PAYMENTS - planSeeds(PAYMENTS).perKind;
    if (!seeded) await dropDatabase(admin, DATABASE, version);
  }
  if (!seeded) await admin.raw("CREATE DATABASE ??", [DATABASE]);
  const knex = pgKnex(pgUrlFor(DATABASE), 2, 2);
  try {
    return await fn(knex, seeded);
  } finally {
    await knex.destroy();
  }
}

async function main() {
  const admin = pgKnex(PG_URL, 1);
  try {
    const [{ server_version_num: version, server_version: label }] = (
      await admin.raw(
        "SELECT current_setting('server_version_num')::int AS server_version_num, version() AS server_version",
      )
    ).rows;
    result.pgServerVersion = label;
    await database(admin, version, async (knex, seeded) => {
      const store = knexStore(knex);
      await store.migrate();
      const plan = planSeeds(PAYMENTS);
      result.seeded = { total: plan.kinds.size, perKind: plan.perKind };
      log(
        `reconciliation bench: ${PAYMENTS.toLocaleString("en-US")} payments, ${plan.kinds.size} seeded discrepancies (${plan.perKind} per kind), batch ${BATCH}, booking ${BOOK ? "on" : "off"}`,
      );
      let t = performance.now();
      if (seeded) {
        for (const table of [
          TABLES.reconciliationKeys,
          TABLES.reconciliationItems,
          TABLES.reconciliationMatches,
          TABLES.jobs,
        ]) {
          await knex.raw(`TRUNCATE ${table}`);
        }
        await knex.raw(`DELETE FROM ${TABLES.reconciliationRuns}`);
        await knex.raw(`VACUUM ANALYZE ${TABLES.reconciliationKeys}`);
        log("ledger reused (BENCH_KEEP_DB=1)");
      } else {
        await seedLedger(knex, plan);
        result.seedSeconds = round((performance.now() - t) / 1000, 2);
        log(`ledger seeded in ${fmt(result.seedSeconds, 2)} s`);
      }
      await withTempDir("settlekit-recon-bench-", async (dir) => {
        const path = join(dir, "settlement.csv");
        t = performance.now();
        const { lines, tailLines } = await writeSettlementFile(path, plan);
        result.fileSeconds = round((performance.now() - t) / 1000, 2);
        result.fileLines = lines;
        log(`settlement file: ${lines.toLocaleString("en-US")} lines in ${fmt(result.fileSeconds, 2)} s`);

        // Wall time inside the store's transactions while matching (the database's statements and
        // the little Node work inside them); the rest of the matching phase overlaps or is parsing.
        let storeMs = 0;
        const timedStore = new Proxy(store, {
          get(target, key) {
            if (key === "transaction") {
              return async (work, options) => {
                const t0 = performance.now();
                try {
                  return await target.transaction(work, options);
                } finally {
                  storeMs += performance.now() - t0;
                }
              };
            }
            const value = Reflect.get(target, key, target);
            return typeof value === "function" ? value.bind(target) : value;
          },
        });
        const system = createPaymentSystem({
          store: timedStore,
          providers: [
            sandboxProvider({
              baseUrl: "http://shop.bench/sandbox",
              webhookUrl: "http://shop.bench/webhooks/sandbox",
              webhookSecret: "whsec_bench_recon",
            }),
          ],
          clock: manualClock(NOW),
        });
        globalThis.gc?.();
        let peak = process.memoryUsage.rss();
        const sampler = setInterval(() => {
          peak = Math.max(peak, process.memoryUsage.rss());
        }, 20);
        const loadBefore = loadavg().map((x) => round(x, 2));
        const pgBefore = await backendCpu(knex);
        const cpuBefore = process.cpuUsage();
        t = performance.now();
        let run;
        try {
          ({ run } = await system.reconcile({
            provider: PSP,
            period: PERIOD,
            source: { format: "sandbox_csv", file: createReadStream(path) },
            settlementLagMs: LAG_MS,
            expectedFee: feeOf,
            book: BOOK,
            batchSize: BATCH,
          }));
        } finally {
          clearInterval(sampler);
        }
        const seconds = (performance.now() - t) / 1000;
        const cpu = process.cpuUsage(cpuBefore);
        result.nodeCpuSeconds = round((cpu.user + cpu.system) / 1e6, 2);
        result.storeSeconds = round(storeMs / 1000, 2);
        const pgAfter = pgBefore && (await backendCpu(knex));
        if (pgBefore && pgAfter) {
          let sum = 0;
          for (const [pid, cpu] of pgAfter) sum += cpu - (pgBefore.get(pid) ?? 0);
          result.pgCpuSeconds = round(sum, 2);
        }
        peak = Math.max(peak, process.memoryUsage.rss());
        result.loadAverage = loadBefore;
        result.loadAverageAfter = loadavg().map((x) => round(x, 2));
        result.matchingSeconds = round(seconds, 2);
        result.recordsPerSecond = Math.round((lines - 1) / seconds);
        // The bound the CPU figures give: Node is one thread and the batches reach Postgres one
        // after another (one backend busy at a time), so however idle the machine, the matching
        // phase cannot be shorter than the larger of the two CPU times; per record, × 1 000 000.
        if (result.pgCpuSeconds != null) {
          const us = (s) => round((s * 1e6) / (lines - 1), 2);
          const perRecord = Math.max(result.nodeCpuSeconds, result.pgCpuSeconds) / (lines - 1);
          result.bound = {
            nodeCpuMicrosPerRecord: us(result.nodeCpuSeconds),
            pgCpuMicrosPerRecord: us(result.pgCpuSeconds),
            cpuBoundSeconds: round(perRecord * (lines - 1), 2),
            cpuBoundSecondsAt1M: round(perRecord * 1_000_000, 2),
            by: result.pgCpuSeconds >= result.nodeCpuSeconds ? "postgres" : "node",
          };
        }
        result.peakRssMatchingMB = round(peak / MB, 1);
        result.run = {
          id: run.id,
          recordCount: run.recordCount,
          discrepancyCount: run.discrepancyCount,
          totals: run.totals.map((x) => ({ class: x.class, currency: x.currency, count: x.count })),
        };
        log(
          `matching: ${fmt(seconds, 2)} s, ${result.recordsPerSecond.toLocaleString("en-US")} records/s, Node CPU ${fmt(result.nodeCpuSeconds, 2)} s, in store transactions ${fmt(result.storeSeconds, 2)} s, Postgres CPU ${fmt(result.pgCpuSeconds, 2)} s, peak RSS ${fmt(result.peakRssMatchingMB)} MB (load ${loadBefore.join(" ")} → ${result.loadAverageAfter.join(" ")})`,
        );
        if (result.bound) {
          log(
            `bound: Node ${fmt(result.bound.nodeCpuMicrosPerRecord, 2)} µs, Postgres ${fmt(result.bound.pgCpuMicrosPerRecord, 2)} µs of CPU per record: at least ${fmt(result.bound.cpuBoundSecondsAt1M, 2)} s per 1 000 000 records (${result.bound.by})`,
          );
        }
        const check = await checkRun(system, run, plan, tailLines);
        result.check = {
          expectedItems: check.expected.items.length,
          foundItems: check.foundCount,
          matched: check.expected.matched,
        };
        for (const problem of check.problems) result.failures.push(`check: ${problem}`);
        if (check.problemCount > check.problems.length) {
          result.failures.push(`check: … ${check.problemCount - check.problems.length} more problems`);
        }
        log(
          `check: ${check.foundCount} non-matched items, ${check.expected.items.length} seeded, ${check.problemCount} problems`,
        );
      });
    });
  } finally {
    await admin.destroy();
  }
}

try {
  await main();
} catch (error) {
  console.error(error);
  result.failures.push(`bench: ${errorText(error)}`);
}
result.maxRssProcessMB = round(process.resourceUsage().maxRSS / 1024, 1);
result.targets = {
  matchingSeconds: {
    target: `< ${TARGET_SECONDS}`,
    value: result.matchingSeconds,
    met: result.matchingSeconds != null && result.matchingSeconds < TARGET_SECONDS,
  },
  cpuBoundAt1MSeconds: {
    target: `< ${TARGET_SECONDS}`,
    value: result.bound?.cpuBoundSecondsAt1M ?? null,
    met: result.bound != null && result.bound.cpuBoundSecondsAt1M < TARGET_SECONDS,
  },
  peakRssMB: {
    target: `< ${TARGET_RSS_MB}`,
    value: result.peakRssMatchingMB,
    met: result.peakRssMatchingMB != null && result.peakRssMatchingMB < TARGET_RSS_MB,
  },
};
log(
  `targets: matching < ${TARGET_SECONDS} s ${result.targets.matchingSeconds.met ? "met" : "NOT met"}, peak RSS < ${TARGET_RSS_MB} MB ${result.targets.peakRssMB.met ? "met" : "NOT met"} (process max RSS ${fmt(result.maxRssProcessMB)} MB)`,
);
finish(result);
