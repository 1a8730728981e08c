import type { DeadLetter, ReconciliationClass, ReconciliationRun } from "@settlekit/core";
import { isSettlekitError } from "@settlekit/core";
import { TABLES } from "@settlekit/store-knex";
import { Command, CommanderError } from "commander";
import type { ReconcileEngine } from "./commands/reconcile.js";
import {
  defaultReconcileEngine,
  formatReconcileSummary,
  reconcileCommand,
  runReconcile,
  summaryOfRun,
} from "./commands/reconcile.js";
import type { ResolveOptions } from "./commands/resolve.js";
import { runResolve } from "./commands/resolve.js";
import type { WorkerSignals } from "./commands/worker.js";
import { processSignals, runWorker, workerCommand } from "./commands/worker.js";
import { loadConfig, systemFor } from "./config.js";
import type { OpenDatabase } from "./database.js";
import { databaseUrl, openDatabase, redact } from "./database.js";
import { CliUsageError, ExitCode } from "./exit-codes.js";
import type { CliIo } from "./io.js";
import { formatTable, processIo, writeJson } from "./io.js";

export interface CliOptions {
  /** Where output goes and the environment comes from (default: this process's). */
  readonly io?: CliIo;
  /** The engine behind `settlekit reconcile` (default: `system.reconcile`, {@link defaultReconcileEngine}). */
  readonly reconcileEngine?: ReconcileEngine;
  /** Where `settlekit worker` hears SIGTERM/SIGINT (default: this process's signals). */
  readonly signals?: WorkerSignals;
  /**
   * Called by `settlekit worker` when its shutdown is stuck past `--shutdown-timeout` plus a grace
   * period (a store or broker call that never returns): the `settlekit` binary exits the process
   * with the code. Unset (embedded use), the command keeps waiting.
   */
  readonly hardExit?: (code: number) => void;
}

interface DbOptions {
  readonly db?: string;
  readonly config?: string;
  readonly json?: boolean;
}

const dbOption = "database URL: postgres://… or a SQLite file (default: $DATABASE_URL)";
const configOption = "module exporting your payment system factory (default: ./settlekit.config.mjs)";

/**
 * The `settlekit` program. Every command answers `--help`; exit codes are {@link ExitCode}: 0 done,
 * 1 findings (dead letters, discrepancies), 2 usage or configuration errors.
 */
export function createProgram(options: CliOptions = {}): { program: Command; exitCode: () => number } {
  const io = options.io ?? processIo();
  let code: number = ExitCode.OK;
  const program = new Command("settlekit")
    .description(
      "Operate a settlekit payment system: migrations, the background worker, dead letters, payouts, reconciliation.",
    )
    .version("0.1.0")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText(
      "after",
      "\nExit codes: 0 ok · 1 findings (dead letters, discrepancies) · 2 usage or configuration error · 3 worker shut down with work given back.\nThe database URL comes from --db or DATABASE_URL.",
    );

  /** Opens the database, runs `work`, closes; the exit code is what `work` returns. */
  const withDatabase =
    <A extends unknown[]>(work: (db: OpenDatabase, opts: DbOptions, ...args: A) => Promise<number>) =>
    async (...args: [...A, DbOptions, Command]) => {
      const opts = args[args.length - 2] as DbOptions;
      const positional = args.slice(0, -2) as unknown as A;
      const db = openDatabase(databaseUrl(opts.db, io), io);
      try {
        code = await work(db, opts, ...positional);
      } finally {
        await db.close();
      }
    };

  program
    .command("migrate")
    .description("Apply settlekit's database migrations (idempotent).")
    .option("--db <url>", dbOption)
    .option("--json", "print the result as JSON")
    .action(
      withDatabase(async (db, opts) => {
        const applied = async () =>
          (await db.knex.schema.hasTable(TABLES.migrations))
            ? Number((await db.knex(TABLES.migrations).count({ n: "*" }))[0]?.n ?? 0)
            : 0;
        const before = await applied();
        await db.store.migrate();
        const after = await applied();
        const result = {
          database: redact(db.url),
          dialect: db.dialect,
          applied: after - before,
          total: after,
        };
        if (opts.json) writeJson(io, result);
        else
          io.stdout.write(
            `Migrated ${result.database} (${db.dialect}): ${result.applied} applied, ${result.total} in total.\n`,
          );
        return ExitCode.OK;
      }),
    );

  const deadLetters = program
    .command("dead-letters")
    .description(
      "List or replay dead-lettered jobs (registrations, refunds, payouts, notifications, alerts).",
    );
  deadLetters
    .command("list")
    .description("List dead-lettered jobs, oldest first; exit code 1 when there are any.")
    .option("--db <url>", dbOption)
    .option("--config <file>", configOption)
    .option("--type <type>", "only jobs of this type (e.g. alert.deliver)")
    .option("--limit <n>", "at most this many", (v) => positiveInt(v, "--limit"), 100)
    .option("--json", "print them as JSON")
    .action(
      withDatabase(async (db, opts) => {
        const o = opts as DbOptions & { type?: string; limit: number };
        const system = await systemFor(db, await loadConfig(o.config, io), undefined);
        const dead = await system.listDeadLetters({ limit: o.limit, ...(o.type ? { type: o.type } : {}) });
        if (o.json) writeJson(io, { dead_letters: dead.map(deadLetterJson) });
        else if (dead.length === 0) io.stdout.write("No dead letters.\n");
        else
          io.stdout.write(
            `${formatTable(
              ["id", "type", "attempts", "last error", "updated"],
              dead.map((d) => [
                d.id,
                d.type,
                String(d.attempts),
                (d.lastError ?? "").slice(0, 60),
                d.updatedAt.toISOString(),
              ]),
            )}\n\n${dead.length} dead letter${dead.length === 1 ? "" : "s"}: replay with \`settlekit dead-letters replay <id>\`.\n`,
          );
        return dead.length > 0 ? ExitCode.FINDINGS : ExitCode.OK;
      }),
    );
  deadLetters
    .command("replay")
    .description("Put a dead-lettered job back in the queue with a fresh attempt budget (a worker runs it).")
    .argument("<id>", "the dead letter's job id")
    .option("--db <url>", dbOption)
    .option("--config <file>", configOption)
    .option("--json", "print the result as JSON")
    .action(
      withDatabase(async (db, opts, id: string) => {
        const system = await systemFor(db, await loadConfig(opts.config, io), undefined);
        await system.replayDeadLetter(id);
        if (opts.json) writeJson(io, { replayed: id });
        else io.stdout.write(`Replayed ${id}: queued again.\n`);
        return ExitCode.OK;
      }),
    );

  program
    .command("payouts")
    .description("Payouts to sellers.")
    .command("run")
    .description("Run one payout cycle now: every seller whose schedule is due is reserved and paid.")
    .option("--db <url>", dbOption)
    .option("--config <file>", configOption)
    .option("--json", "print the result as JSON")
    .action(
      withDatabase(async (db, opts) => {
        const system = await systemFor(db, await loadConfig(opts.config, io), "settlekit payouts run");
        const result = await system.runPayoutCycle();
        if (opts.json) writeJson(io, result);
        else
          io.stdout.write(`Payout cycle: ${result.scheduled} sellers due, ${result.jobs} payout jobs ran.\n`);
        return ExitCode.OK;
      }),
    );

  reconcileCommand(program, async (opts) => {
    const engine = options.reconcileEngine ?? defaultReconcileEngine;
    await withDatabase(async (db, o) => {
      // The engine reconciles on the host's system (its PSPs); a custom engine may do without.
      const required = options.reconcileEngine ? undefined : "settlekit reconcile";
      const system = await systemFor(db, await loadConfig(o.config, io), required);
      return runReconcile(engine, opts, { system, db, io });
    })(opts, program);
  });

  workerCommand(program, async (opts) => {
    await withDatabase(async (db) =>
      runWorker(db, opts, {
        io,
        signals: options.signals ?? processSignals,
        ...(options.hardExit ? { hardExit: options.hardExit } : {}),
      }),
    )(opts, program);
  });

  const reconciliations = program
    .command("reconciliations")
    .description("Stored reconciliation runs and their items.");
  reconciliations
    .command("list")
    .description("List reconciliation runs, newest first.")
    .option("--db <url>", dbOption)
    .option("--config <file>", configOption)
    .option("--psp <id>", "only runs of this PSP")
    .option("--limit <n>", "at most this many", (v) => positiveInt(v, "--limit"), 20)
    .option("--json", "print them as JSON")
    .action(
      withDatabase(async (db, opts) => {
        const o = opts as DbOptions & { psp?: string; limit: number };
        const system = await systemFor(db, await loadConfig(o.config, io), undefined);
        const page = await system.listReconciliations({
          limit: o.limit,
          ...(o.psp ? { provider: o.psp } : {}),
        });
        if (o.json) writeJson(io, { runs: page.data.map(runJson), has_more: page.hasMore });
        else if (page.data.length === 0) io.stdout.write("No reconciliation runs.\n");
        else
          io.stdout.write(
            `${formatTable(
              ["id", "psp", "period from", "period to", "status", "records", "discrepancies"],
              page.data.map((r) => [
                r.id,
                r.pspId,
                r.periodFrom.toISOString(),
                r.periodTo.toISOString(),
                r.status,
                String(r.recordCount),
                String(r.discrepancyCount),
              ]),
            )}\n`,
          );
        return ExitCode.OK;
      }),
    );
  reconciliations
    .command("show")
    .description(
      "Show one run: its totals and its items (optionally of one class); exit code 1 when it has discrepancies.",
    )
    .argument("<id>", "the run's id")
    .option("--db <url>", dbOption)
    .option("--config <file>", configOption)
    .option("--class <class>", "only items of this class (e.g. amount_mismatch)")
    .option("--limit <n>", "at most this many items", (v) => positiveInt(v, "--limit"), 100)
    .option("--json", "print it as JSON")
    .action(
      withDatabase(async (db, opts, id: string) => {
        const o = opts as DbOptions & { class?: string; limit: number };
        const system = await systemFor(db, await loadConfig(o.config, io), undefined);
        const run = await system.getReconciliation(id);
        const items = await system.listReconciliationItems(id, {
          limit: o.limit,
          ...(o.class ? { class: o.class as ReconciliationClass } : {}),
        });
        if (o.json) writeJson(io, { run: runJson(run), items: items.data, has_more: items.hasMore });
        else
          io.stdout.write(
            `${formatReconcileSummary(summaryOfRun(run, false))}\n${
              items.data.length === 0
                ? "No items."
                : formatTable(
                    ["seq", "class", "leg", "line", "reference", "currency", "amount", "expected", "message"],
                    items.data.map((i) => [
                      String(i.seq),
                      i.class,
                      i.leg,
                      i.line === undefined ? "" : String(i.line),
                      i.reference ?? i.recordId ?? "",
                      i.currency ?? "",
                      i.amount?.toString() ?? "",
                      i.expectedAmount?.toString() ?? "",
                      i.message.slice(0, 80),
                    ]),
                  )
            }${items.hasMore ? `\n… more: --limit ${o.limit * 2}` : ""}\n`,
          );
        return run.discrepancyCount > 0 ? ExitCode.FINDINGS : ExitCode.OK;
      }),
    );

  reconciliations
    .command("resolve")
    .description(
      "Resolve a discrepancy of a run: who (--by) and why (--note), and a correcting journal if given (--journal); an item resolved already is an error (exit 2).",
    )
    .argument("<run>", "the run's id")
    .argument("<item>", "the item's number (seq, as `reconciliations show` lists it)")
    .requiredOption("--note <text>", "what was found and what was done")
    .option(
      "--journal <file>",
      'a correcting journal (JSON: { "postings": [{ "account", "currency", "direction", "amount" }], "reference"?, "kind"?, "metadata"? }, amounts in minor units), posted with the resolution',
    )
    .option("--by <operator>", "who resolves it (default: $SETTLEKIT_OPERATOR, else $USER)")
    .option("--db <url>", dbOption)
    .option("--config <file>", configOption)
    .option("--json", "print the resolved item as JSON")
    .action(
      withDatabase(async (db, opts, runId: string, item: string) => {
        const system = await systemFor(db, await loadConfig(opts.config, io), undefined);
        return runResolve(system, io, runId, item, opts as DbOptions & ResolveOptions);
      }),
    );

  return { program, exitCode: () => code };
}

const runJson = (r: ReconciliationRun) => ({
  id: r.id,
  psp: r.pspId,
  period: { from: r.periodFrom.toISOString(), to: r.periodTo.toISOString() },
  source: r.source,
  source_checksum: r.sourceChecksum ?? null,
  status: r.status,
  supersedes: r.supersedes ?? null,
  superseded_by: r.supersededBy ?? null,
  records: r.recordCount,
  bank_lines: r.bankLineCount,
  discrepancies: r.discrepancyCount,
  anomaly: r.anomaly ?? null,
  totals: r.totals,
  created_at: r.createdAt.toISOString(),
  completed_at: r.completedAt?.toISOString() ?? null,
});

const positiveInt = (value: string, name: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new CliUsageError(`${name} must be a whole number ≥ 1, not "${value}".`);
  return n;
};

const deadLetterJson = (d: DeadLetter) => ({
  id: d.id,
  type: d.type,
  attempts: d.attempts,
  max_attempts: d.maxAttempts,
  last_error: d.lastError,
  payload: d.payload,
  history: d.history,
  created_at: d.createdAt.toISOString(),
  updated_at: d.updatedAt.toISOString(),
});

/**
 * Runs the `settlekit` command with `argv` (the arguments after the program name) and resolves
 * with its exit code; never exits the process itself.
 */
export async function runCli(argv: readonly string[], options: CliOptions = {}): Promise<number> {
  const io = options.io ?? processIo();
  const { program, exitCode } = createProgram({ ...options, io });
  const json = argv.includes("--json");
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode();
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; a parse error (unknown option, missing argument) is usage.
      return error.code === "commander.helpDisplayed" || error.code === "commander.version"
        ? ExitCode.OK
        : ExitCode.USAGE;
    }
    const message =
      error instanceof CliUsageError || isSettlekitError(error)
        ? error.message
        : `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
    const errorCode = isSettlekitError(error)
      ? error.code
      : error instanceof CliUsageError
        ? "USAGE"
        : "ERROR";
    if (json) writeJson(io, { error: { code: errorCode, message } });
    io.stderr.write(`settlekit: ${message}\n`);
    return ExitCode.USAGE;
  }
}
