import { execFile, execFileSync, spawn } from "node:child_process";
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** Where Debian puts PostgreSQL 15's programs (override: `SETTLEKIT_PG_BIN`). */
export const PG_BIN = process.env.SETTLEKIT_PG_BIN ?? "/usr/lib/postgresql/15/bin";

/** The OS user PostgreSQL runs as when the tests run as root (initdb refuses root). */
const PG_USER = "postgres";

const asRoot = typeof process.getuid === "function" && process.getuid() === 0;

/** One PostgreSQL server the harness made: its data folder, port and postmaster. */
export interface PgNode {
  readonly name: string;
  readonly dataDir: string;
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string;
}

/** A primary with one synchronous hot standby, in temp folders, on free ports. */
export interface ReplicatedPair {
  readonly primary: PgNode;
  readonly standby: PgNode;
  /** `kill -9` of the primary's postmaster and every backend it forked (a machine that died). */
  killPrimary(): void;
  /** Promotes the standby (`pg_ctl promote -w`): it is the writable primary when this resolves. */
  promoteStandby(): Promise<void>;
  /** Stops both servers (immediate) and removes the folders. Idempotent. */
  destroy(): Promise<void>;
}

/** Runs a PostgreSQL program, as the `postgres` user when we are root. */
async function pg(program: string, args: readonly string[], timeoutMs = 120_000): Promise<string> {
  const file = join(PG_BIN, program);
  const [command, argv] = asRoot ? ["runuser", ["-u", PG_USER, "--", file, ...args]] : [file, [...args]];
  try {
    const { stdout } = await exec(command, argv, {
      timeout: timeoutMs,
      env: { ...process.env, LC_ALL: "C" },
    });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${program} ${args.join(" ")} failed: ${e.message}\n${e.stderr ?? ""}${e.stdout ?? ""}`);
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:`port` now. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** A TCP port nothing listens on now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The postmaster's pid, from the first line of `postmaster.pid` (undefined when not running). */
function postmasterPid(dataDir: string): number | undefined {
  const file = join(dataDir, "postmaster.pid");
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** `pid` and every process whose parent it is (the postmaster's backends and helpers). */
function processTree(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Field 4 is the parent pid; the command (field 2) may hold spaces, so read after its ")".
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return [pid, ...children];
}

/** Whether `pid` is the postmaster of `dataDir` (a stale pid file's number may belong to anyone now). */
function isPostmasterOf(pid: number, dataDir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(dataDir);
  } catch {
    return false;
  }
}

/**
 * SIGKILL to a server and everything it forked, at once: nothing of it gets to say goodbye. Its
 * stale `postmaster.pid` goes too, so that nothing later signals whatever process reuses the pid.
 */
function killTree(dataDir: string): void {
  const pid = postmasterPid(dataDir);
  if (pid === undefined) return;
  if (isPostmasterOf(pid, dataDir)) {
    for (const p of processTree(pid)) {
      try {
        process.kill(p, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
  }
  rmSync(join(dataDir, "postmaster.pid"), { force: true });
}

/** Every pair not destroyed yet: killed and removed if the test process exits first. */
const live = new Set<{ dirs: string[]; base: string }>();
let exitHook = false;
function onExitCleanup(): void {
  if (exitHook) return;
  exitHook = true;
  process.once("exit", () => {
    for (const pair of live) {
      for (const dir of pair.dirs) killTree(dir);
      rmSync(pair.base, { recursive: true, force: true });
    }
  });
}

const SERVER_SETTINGS = (port: number, socketDir: string, name: string) => `
# settlekit HA harness
listen_addresses = '127.0.0.1'
port = ${port}
unix_socket_directories = '${socketDir}'
cluster_name = '${name}'
max_connections = 60
shared_buffers = 32MB
wal_level = replica
max_wal_senders = 4
max_replication_slots = 4
hot_standby = on
wal_keep_size = 64MB
# A test cluster: the OS keeps the files across a kill -9 of the server; only a power cut could lose them.
fsync = off
full_page_writes = off
logging_collector = off
`;

/**
 * Builds a primary and a hot standby from the machine's PostgreSQL binaries — `initdb` (as the
 * `postgres` user when root), `pg_basebackup -R -X stream` with a replication slot, and
 * `synchronous_standby_names` on the primary naming the standby, so that a commit is acknowledged
 * only once the standby has flushed it — and waits until the standby streams synchronously. It
 * never touches the machine's own cluster: its own folders, its own ports, its own sockets.
 */
export async function startReplicatedPair(): Promise<ReplicatedPair> {
  if (!existsSync(join(PG_BIN, "initdb"))) {
    throw new Error(`PostgreSQL's programs are not in ${PG_BIN} (set SETTLEKIT_PG_BIN)`);
  }
  onExitCleanup();
  const base = mkdtempSync(join(tmpdir(), "settlekit-ha-"));
  const record = { dirs: [] as string[], base };
  live.add(record);
  const owned = (path: string) => {
    if (asRoot) {
      const uid = Number(execFileSyncId("-u"));
      const gid = Number(execFileSyncId("-g"));
      chownSync(path, uid, gid);
    }
    return path;
  };
  owned(base);
  const primaryDir = join(base, "primary");
  const standbyDir = join(base, "standby");
  record.dirs.push(primaryDir, standbyDir);
  const [primaryPort, standbyPort] = [await freePort(), await freePort()];
  const primary: PgNode = {
    name: "primary",
    dataDir: primaryDir,
    port: primaryPort,
    url: `postgres://postgres@127.0.0.1:${primaryPort}/postgres`,
  };
  const standby: PgNode = {
    name: "standby1",
    dataDir: standbyDir,
    port: standbyPort,
    url: `postgres://postgres@127.0.0.1:${standbyPort}/postgres`,
  };
  const watchdog = startWatchdog(base, [primaryDir, standbyDir]);
  let destroyed = false;
  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    for (const node of [standby, primary]) {
      if (postmasterPid(node.dataDir) === undefined) continue;
      await pg("pg_ctl", ["stop", "-D", node.dataDir, "-m", "immediate", "-w", "-t", "30"]).catch(() =>
        killTree(node.dataDir),
      );
    }
    rmSync(base, { recursive: true, force: true });
    live.delete(record);
    watchdog.stop();
  };
  try {
    await pg("initdb", ["-D", primaryDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    // initdb's pg_hba.conf already trusts local replication connections with --auth=trust.
    appendFileSync(
      join(primaryDir, "postgresql.conf"),
      `${SERVER_SETTINGS(primaryPort, base, "primary")}synchronous_standby_names = 'FIRST 1 (standby1)'\n`,
    );
    await pg("pg_ctl", ["start", "-D", primaryDir, "-l", join(base, "primary.log"), "-w", "-t", "60"]);
    await pg("pg_basebackup", [
      ...["-h", "127.0.0.1", "-p", String(primaryPort), "-U", "postgres"],
      ...["-D", standbyDir, "-R", "-X", "stream", "-C", "-S", "standby1_slot", "--no-sync"],
    ]);
    // The copy carries the primary's settings: the standby gets its own port and name (its
    // application_name, which synchronous_standby_names names) and waits for no standby itself.
    appendFileSync(
      join(standbyDir, "postgresql.conf"),
      `${SERVER_SETTINGS(standbyPort, base, "standby1")}synchronous_standby_names = ''\n`,
    );
    await pg("pg_ctl", ["start", "-D", standbyDir, "-l", join(base, "standby.log"), "-w", "-t", "60"]);
    await waitForSyncStandby(primary);
  } catch (error) {
    const logs = ["primary.log", "standby.log"]
      .map((f) => join(base, f))
      .filter((f) => existsSync(f))
      .map((f) => `--- ${f}\n${readFileSync(f, "utf8").slice(-4_000)}`)
      .join("\n");
    await destroy();
    throw new Error(`${(error as Error).message}\n${logs}`);
  }
  return {
    primary,
    standby,
    killPrimary: () => killTree(primaryDir),
    async promoteStandby() {
      await pg("pg_ctl", ["promote", "-D", standbyDir, "-w", "-t", "60"]);
    },
    destroy,
  };
}

/** The uid or gid of the `postgres` user (`id -u postgres`). */
function execFileSyncId(flag: "-u" | "-g"): string {
  return execFileSync("id", [flag, PG_USER], { encoding: "utf8" }).trim();
}

/**
 * A detached shell that outlives this process: once the test process is gone — even killed with
 * SIGKILL, when no exit hook runs — it stops both servers (immediate) and removes the folder, so
 * no PostgreSQL is left running. `stop()` ends it when the pair was destroyed normally.
 */
function startWatchdog(base: string, dataDirs: readonly string[]): { stop(): void } {
  const pgCtl = join(PG_BIN, "pg_ctl");
  // Only a server whose pid file still names a live postmaster of that folder is stopped.
  const stopAll = dataDirs
    .map(
      (dir) =>
        `p=$(head -1 '${dir}/postmaster.pid' 2>/dev/null) && grep -qzxF -- '${dir}' /proc/$p/cmdline 2>/dev/null && ` +
        `${asRoot ? `runuser -u ${PG_USER} -- ` : ""}'${pgCtl}' stop -D '${dir}' -m immediate -w -t 30`,
    )
    .join("; ");
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${stopAll}; rm -rf '${base}'`;
  const child = spawn("sh", ["-c", script], { detached: true, stdio: "ignore" });
  child.unref();
  return {
    stop() {
      if (child.pid === undefined) return;
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {
        // It ended already.
      }
    },
  };
}

/** Polls the primary until the standby streams as `sync` (bounded: 60 s). */
async function waitForSyncStandby(primary: PgNode): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const out = await pg("psql", [
      ...["-h", "127.0.0.1", "-p", String(primary.port), "-U", "postgres", "-d", "postgres"],
      ...["-Atc", "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'"],
    ]);
    if (out.trim() === "sync") return;
    if (Date.now() > deadline)
      throw new Error(`the standby did not stream synchronously (state: ${out.trim()})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
