// CPU and WAL accounting for the settlekit benchmarks (Linux /proc; null elsewhere). On a small
// machine the client (Node) and the server share the CPUs, so CPU per journal (or lifecycle)
// explains most of the throughput.

import { readdirSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const CLK_TCK = 100; // USER_HZ: 100 on every mainstream Linux build
const round = (value, digits = 1) => (value == null ? null : Number(value.toFixed(digits)));

function procStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const comm = text.slice(text.indexOf("(") + 1, text.lastIndexOf(")"));
    const f = text.slice(text.lastIndexOf(")") + 2).split(" "); // f[0] is field 3 (state)
    return {
      pid,
      comm,
      ppid: Number(f[1]),
      own: Number(f[11]) + Number(f[12]),
      reaped: Number(f[13]) + Number(f[14]),
    };
  } catch {
    return null;
  }
}

/**
 * CPU of a local PostgreSQL server in ticks: live `postgres` processes plus what the postmaster
 * reaped from exited backends (so pgbench's short-lived connections are counted too).
 */
function postgresTicks() {
  let entries;
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  const procs = entries.map(procStat).filter((p) => p?.comm === "postgres");
  if (procs.length === 0) return null;
  const pids = new Set(procs.map((p) => p.pid));
  let ticks = 0;
  for (const p of procs) ticks += p.own + (pids.has(String(p.ppid)) ? 0 : p.reaped);
  return ticks;
}

function machineTicks() {
  try {
    const [, ...fields] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
    return {
      busy: user + nice + system + irq + softirq,
      total: user + nice + system + idle + iowait + irq + softirq + steal,
      steal,
    };
  } catch {
    return null;
  }
}

/**
 * CPU ticks of the server backends connected to `database` (the benchmark's own connections), so
 * other work on a shared server does not count; Linux /proc, meaningful for a local server only.
 * The first call (no `pids`) finds the backends; pass the returned `pids` again to read the same
 * ones later. Null when a backend went away (no reliable figure).
 * @param {import("knex").Knex} knex an admin connection to the same server
 * @param {string} database
 * @param {number[]} [pids]
 * @returns {Promise<{ pids: number[], ticks: number } | null>}
 */
export async function backendTicks(knex, database, pids) {
  if (!pids) {
    const { rows } = await knex.raw(
      "SELECT pid FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()",
      [database],
    );
    pids = rows.map((r) => r.pid);
  }
  let ticks = 0;
  for (const pid of pids) {
    const stat = procStat(pid);
    if (!stat) return null; // a backend went away: no reliable figure
    ticks += stat.own;
  }
  return { pids, ticks };
}

/** A snapshot of wall time, Node CPU, reaped child CPU, server CPU and machine CPU; see `costSince`. */
export function meter() {
  const self = procStat("self");
  return {
    wall: performance.now(),
    node: process.cpuUsage(),
    children: self ? self.reaped : null,
    postgres: postgresTicks(),
    machine: machineTicks(),
  };
}

/** CPU spent since `start` per unit of work (`units` journals or transactions); `postgres: false` omits the server. */
export function costSince(start, units, { postgres = true } = {}) {
  const end = meter();
  const wallMs = end.wall - start.wall;
  const node = process.cpuUsage(start.node);
  const perUnit = (ms) => (ms == null || units === 0 ? null : round(ms / units, 3));
  const ticksMs = (a, b) => (a == null || b == null ? null : ((b - a) * 1000) / CLK_TCK);
  const machine =
    start.machine && end.machine
      ? {
          busyPercent: round(
            ((end.machine.busy - start.machine.busy) / (end.machine.total - start.machine.total)) * 100,
          ),
          stealPercent: round(
            ((end.machine.steal - start.machine.steal) / (end.machine.total - start.machine.total)) * 100,
          ),
        }
      : null;
  return {
    wallMs: round(wallMs),
    nodeCpuMsPerUnit: perUnit((node.user + node.system) / 1000),
    childCpuMsPerUnit: perUnit(ticksMs(start.children, end.children)),
    postgresCpuMsPerUnit: postgres ? perUnit(ticksMs(start.postgres, end.postgres)) : null,
    machineBusyPercent: machine?.busyPercent ?? null,
    machineStealPercent: machine?.stealPercent ?? null,
  };
}

/** The server's current WAL position (PostgreSQL), for `walBytesSince`. */
export async function walLsn(knex) {
  const { rows } = await knex.raw("SELECT pg_current_wal_lsn()::text AS lsn");
  return rows[0].lsn;
}

/** WAL bytes the server has written since `lsn` (from `walLsn`). */
export async function walBytesSince(knex, lsn) {
  const { rows } = await knex.raw(
    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ?::pg_lsn)::bigint AS bytes",
    [lsn],
  );
  return Number(rows[0].bytes);
}

/** WAL bytes written since `lsn` per unit of work, rounded; null when no unit was done. */
export async function walBytesPerUnit(knex, lsn, units) {
  return units ? Math.round((await walBytesSince(knex, lsn)) / units) : null;
}
