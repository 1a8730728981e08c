import { hostname } from "node:os";
import type { WorkerStopResult } from "@settlekit/core";
import { createWorker } from "@settlekit/core";
import type { Command } from "commander";
import { Option } from "commander";
import { loadConfig, loadWorkerConfig, systemFor } from "../config.js";
import type { OpenDatabase } from "../database.js";
import { redact } from "../database.js";
import { CliUsageError, ExitCode } from "../exit-codes.js";
import type { CliIo } from "../io.js";
import { writeJson } from "../io.js";

/** How a running `settlekit worker` hears about shutdown signals (this process's, by default). */
export interface WorkerSignals {
  /** Calls `handler` on each SIGTERM or SIGINT until the returned function is called. */
  subscribe(handler: (signal: NodeJS.Signals) => void): () => void;
}

export const processSignals: WorkerSignals = {
  subscribe(handler) {
    const signals: NodeJS.Signals[] = ["SIGTERM", "SIGINT"];
    for (const signal of signals) process.on(signal, handler);
    return () => {
      for (const signal of signals) process.off(signal, handler);
    };
  },
};

export interface WorkerCommandOptions {
  readonly db?: string;
  readonly config?: string;
  readonly json?: boolean;
  readonly workerId?: string;
  readonly idle: number;
  readonly jobLease: number;
  /** Default: `$SHUTDOWN_TIMEOUT_MS`, else 30 000. */
  readonly shutdownTimeout?: number;
}

/**
 * How long past `--shutdown-timeout` (or a second signal) a stuck shutdown — a store or broker
 * call that never returns, so nothing more can be released — may take before the process exits.
 */
export const HARD_EXIT_GRACE_MS = 5_000;

/** The longest `--shutdown-timeout` the worker accepts (an hour); past it, use a process manager's own timeout. */
const MAX_SHUTDOWN_MS = 3_600_000;

const wholeMs = (name: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new CliUsageError(
      `${name} must be a whole number of milliseconds from ${min} to ${max}, not "${value}".`,
    );
  return n;
};

/** Adds `settlekit worker` to the program; `run` does the work (see {@link runWorker}). */
export function workerCommand(program: Command, run: (opts: WorkerCommandOptions) => Promise<void>): void {
  program
    .command("worker")
    .description(
      "Run the background worker until SIGTERM/SIGINT: outbox relay, job queue (PSP registrations and retries, refunds, payouts, emails), pending sweeper, recovery. Run as many as you like.",
    )
    .option("--db <url>", "database URL: postgres://… or a SQLite file (default: $DATABASE_URL)")
    .option(
      "--config <file>",
      "module exporting your payment system factory (default: ./settlekit.config.mjs)",
    )
    .option("--worker-id <id>", "this worker's name in leases and job history (default: <host>-<pid>)")
    .addOption(
      new Option(
        "--shutdown-timeout <ms>",
        "on SIGTERM, how long work in flight may take before it is given back",
      )
        .argParser(wholeMs("--shutdown-timeout", 0, MAX_SHUTDOWN_MS))
        .default(undefined, "$SHUTDOWN_TIMEOUT_MS or 30000"),
    )
    .addOption(
      new Option("--job-lease <ms>", "how soon a job of a worker that died (SIGKILL) is run by another")
        .argParser(wholeMs("--job-lease", 1_000, 86_400_000))
        .default(300_000),
    )
    .addOption(
      new Option("--idle <ms>", "pause between passes when there was nothing to do")
        .argParser(wholeMs("--idle", 1, 600_000))
        .default(1_000),
    )
    .option("--json", "log as JSON lines (one object per event)")
    .addHelpText(
      "after",
      `
Shutdown: SIGTERM or SIGINT stops claiming work; the job running finishes, the jobs claimed but not
started are released at once (another worker claims them), the pool is closed, and the exit code is 0.
A second signal, or work still running after --shutdown-timeout, gives the running job back to the
queue (another worker runs it again) and exits 3. After SIGKILL, another worker takes the dead one's
jobs over when their lease (--job-lease) expires.`,
    )
    .action(async (opts: WorkerCommandOptions) => run(opts));
}

const positiveEnv = (value: string | undefined, fallback: number): number => {
  if (value === undefined || value.trim() === "") return fallback;
  return wholeMs("SHUTDOWN_TIMEOUT_MS", 0, MAX_SHUTDOWN_MS)(value.trim());
};

/**
 * Runs a worker on `db` until a shutdown signal, then shuts it down gracefully (see the command's
 * help). Resolves with the exit code: {@link ExitCode.OK} after a clean stop,
 * {@link ExitCode.UNCLEAN_SHUTDOWN} when work had to be given back unfinished. The caller closes `db`.
 */
export async function runWorker(
  db: OpenDatabase,
  opts: WorkerCommandOptions,
  context: {
    readonly io: CliIo;
    readonly signals: WorkerSignals;
    readonly pid?: number;
    /** Called when the shutdown is stuck {@link HARD_EXIT_GRACE_MS} past its deadline (see `CliOptions.hardExit`). */
    readonly hardExit?: (code: number) => void;
  },
): Promise<number> {
  const { io } = context;
  const shutdownTimeout = opts.shutdownTimeout ?? positiveEnv(io.env.SHUTDOWN_TIMEOUT_MS, 30_000);
  const log = (event: string, text: string, fields: Record<string, unknown> = {}) => {
    if (opts.json) writeJson(io, { at: new Date().toISOString(), event, ...fields, message: text }, 0);
    else io.stdout.write(`settlekit worker: ${text}\n`);
  };
  let hardTimer: ReturnType<typeof setTimeout> | undefined;
  const armHardExit = (afterMs: number) => {
    if (!context.hardExit) return;
    clearTimeout(hardTimer);
    hardTimer = setTimeout(() => {
      io.stderr.write(
        "settlekit worker: shutdown stuck past its deadline (store or broker not answering); exiting.\n",
      );
      context.hardExit?.(ExitCode.UNCLEAN_SHUTDOWN);
    }, afterMs + HARD_EXIT_GRACE_MS);
    hardTimer.unref?.();
  };
  // Heard from the start: a SIGTERM while the worker is still starting (loading the config,
  // checking migrations) stops it before it claims anything, instead of killing it mid-start.
  let signalled: (signal: NodeJS.Signals) => void = () => undefined;
  const firstSignal = new Promise<NodeJS.Signals>((resolve) => {
    signalled = resolve;
  });
  let stopping = false;
  let forced = false;
  let worker: ReturnType<typeof createWorker> | undefined;
  const unsubscribe = context.signals.subscribe((signal) => {
    if (!stopping) {
      stopping = true;
      signalled(signal);
      return;
    }
    // A second signal: the operator will not wait; give the work in flight back now.
    forced = true;
    log("force", `${signal} again: giving the work in flight back now.`, { signal });
    armHardExit(0);
    void worker?.stop({ deadlineMs: 0 });
  });
  try {
    return await runUntilSignal();
  } finally {
    unsubscribe();
    // Left armed through closing the pool (the caller's), cleared by the process's exit; embedded
    // (no hardExit) there is no timer.
  }

  async function runUntilSignal(): Promise<number> {
    const system = await systemFor(db, await loadConfig(opts.config, io), "settlekit worker");
    // A missing migration is a configuration error before the loop, not a failure of every pass.
    await db.store.assertMigrated?.();
    const workerId = opts.workerId ?? `${hostname()}-${context.pid ?? process.pid}`;
    const extra = await loadWorkerConfig(opts.config, io);
    const scheduled = typeof extra === "function" ? await extra({ system }) : (extra ?? {});
    let failures = 0;
    const running = createWorker(system, {
      ...(scheduled.dailyTasks ? { dailyTasks: scheduled.dailyTasks } : {}),
      ...(scheduled.reconciliation ? { reconciliation: scheduled.reconciliation } : {}),
      workerId,
      idleMs: opts.idle,
      jobLeaseMs: opts.jobLease,
      onError: (error) => {
        failures++;
        const message = error instanceof Error ? error.message : String(error);
        if (opts.json) writeJson(io, { at: new Date().toISOString(), event: "error", message }, 0);
        else io.stderr.write(`settlekit worker: error: ${message}\n`);
      },
    });

    worker = running;
    if (stopping) {
      log("stopped", `${workerId} stopped before it started: nothing claimed.`, {
        workerId,
        clean: true,
        released: 0,
        abandoned: 0,
        errors: 0,
      });
      return ExitCode.OK;
    }
    {
      running.start();
      log(
        "started",
        `${workerId} started on ${redact(db.url)} (${db.dialect}); SIGTERM stops it within ${shutdownTimeout} ms.`,
        { workerId, database: redact(db.url), dialect: db.dialect, shutdownTimeoutMs: shutdownTimeout },
      );
      const signal = await firstSignal;
      log(
        "stopping",
        `${signal}: no more claims; finishing the work in flight (up to ${shutdownTimeout} ms).`,
        {
          signal,
        },
      );
      armHardExit(shutdownTimeout);
      const result: WorkerStopResult = await running.stop({ deadlineMs: shutdownTimeout });
      const clean = result.clean && !forced;
      log(
        "stopped",
        `${workerId} stopped${clean ? "" : " (work given back unfinished)"}: ${result.released} job${result.released === 1 ? "" : "s"} released, ${result.abandoned} cut short, ${failures} pass error${failures === 1 ? "" : "s"}.`,
        { workerId, clean, released: result.released, abandoned: result.abandoned, errors: failures },
      );
      return clean ? ExitCode.OK : ExitCode.UNCLEAN_SHUTDOWN;
    }
  }
}
