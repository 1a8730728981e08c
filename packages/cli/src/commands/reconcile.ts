import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { PaymentSystem, ReconciliationRun } from "@settlekit/core";
import type { Command } from "commander";
import type { OpenDatabase } from "../database.js";
import { CliUsageError, ExitCode } from "../exit-codes.js";
import type { CliIo } from "../io.js";
import { formatTable, writeJson } from "../io.js";
import { createProgress } from "../progress.js";

/*
 * `settlekit reconcile`: argument parsing, the progress bar, the summary table, `--json` and the
 * exit code. The reconciliation engine (core `system.reconcile`) plugs in through
 * {@link ReconcileEngine}; {@link defaultReconcileEngine} streams the files into it.
 */

/** The settlement file formats `--format` accepts. */
export const RECONCILE_FORMATS = ["sandbox_csv", "stripe_itemized_csv"] as const;
export type ReconcileFormat = (typeof RECONCILE_FORMATS)[number];

/** What the command passes the engine. */
export interface ReconcileInput {
  /** The PSP id (`--psp`). */
  readonly psp: string;
  /** The settlement file (`--file`), in the PSP's format. */
  readonly file: string;
  /** A bank statement CSV (`--bank`) for the third leg. */
  readonly bank?: string;
  /** The file's format (`--format`; default: the PSP's own, `sandbox_csv` or `stripe_itemized_csv`). */
  readonly format?: ReconcileFormat;
  /** The settlement period `[from, to)` (`--day`, `--from`/`--to`; default: yesterday, UTC). */
  readonly period?: { readonly from: Date; readonly to: Date };
  /**
   * The engine reports what it has read: `records`, the settlement file's records taken into
   * matching so far (the engine takes the next batch only once the last one is matched), and
   * `bytes` of both files; the CLI draws the progress bar from them.
   */
  readonly onProgress: (progress: { readonly bytes: number; readonly records: number }) => void;
}

/** The outcome of a run, as the CLI prints it. Amounts are minor units. */
export interface ReconcileSummary {
  readonly runId: string;
  readonly psp: string;
  /** ISO dates of the settlement period, when known. */
  readonly period?: { readonly from: string; readonly to: string };
  /** Records read from the file(s). */
  readonly records: number;
  /** One row per class and currency: `matched`, `missing_in_ledger`, `amount_mismatch`, … */
  readonly classes: readonly {
    readonly class: string;
    readonly currency: string;
    readonly count: number;
    readonly amount: bigint;
  }[];
  /** Items of any class but `matched` and `pending`. 0 → exit code 0, otherwise 1. */
  readonly discrepancies: number;
  /** The same source was reconciled before: this is the stored run, nothing changed. */
  readonly replayed?: boolean;
  /** The run this one supersedes (a corrected file). */
  readonly supersedes?: string;
  /** The run is a discrepancy by itself: `empty_source` or `nothing_matched`. */
  readonly anomaly?: string;
}

/** The reconciliation engine as the CLI sees it. */
export interface ReconcileEngine {
  reconcile(
    input: ReconcileInput,
    context: { readonly system: PaymentSystem; readonly db: OpenDatabase },
  ): Promise<ReconcileSummary>;
}

/** The format a PSP's own settlement files have. */
const formatOf = (psp: string): ReconcileFormat => {
  if (psp === "sandbox") return "sandbox_csv";
  if (psp === "stripe") return "stripe_itemized_csv";
  throw new CliUsageError(
    `No default file format for PSP "${psp}": pass --format ${RECONCILE_FORMATS.join("|")}.`,
  );
};

/** A run as the CLI prints it. */
export const summaryOfRun = (run: ReconciliationRun, replayed: boolean): ReconcileSummary => ({
  runId: run.id,
  psp: run.pspId,
  period: { from: run.periodFrom.toISOString(), to: run.periodTo.toISOString() },
  records: run.recordCount,
  classes: run.totals.map((t) => ({
    class: t.class,
    currency: t.currency,
    count: t.count,
    amount: t.amount,
  })),
  discrepancies: run.discrepancyCount,
  replayed,
  ...(run.supersedes ? { supersedes: run.supersedes } : {}),
  ...(run.anomaly ? { anomaly: run.anomaly } : {}),
});

/**
 * The engine: `system.reconcile` with the settlement file (and bank statement) streamed from disk
 * (`fs.createReadStream`, never read whole), reporting the settlement's records (its lines after
 * the header) and the bytes read as progress.
 */
export const defaultReconcileEngine: ReconcileEngine = {
  async reconcile(input, { system }) {
    const format = input.format ?? formatOf(input.psp);
    let bytes = 0;
    let lines = 0;
    const streamed = (path: string, countLines: boolean): AsyncIterable<Uint8Array> =>
      (async function* () {
        for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
          bytes += chunk.length;
          if (countLines) lines += newlines(chunk);
          input.onProgress({ bytes, records: Math.max(lines - 1, 0) });
          yield chunk;
        }
      })();
    const { run, replayed } = await system.reconcile({
      provider: input.psp,
      period: input.period ?? yesterday(new Date()),
      source: { format, file: streamed(input.file, true) },
      ...(input.bank ? { bankStatement: { file: streamed(input.bank, false) } } : {}),
    });
    return summaryOfRun(run, replayed);
  },
};

const newlines = (chunk: Uint8Array) => {
  let n = 0;
  for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) n += 1;
  return n;
};

/** A file's records: its lines after the header (one pass, a chunk at a time), for the bar's total. */
async function recordsIn(path: string): Promise<number> {
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    lines += newlines(chunk);
    if (chunk.length > 0) last = chunk[chunk.length - 1]!;
  }
  // A last line without its newline is a line too.
  return Math.max(lines + (last === 10 ? 0 : 1) - 1, 0);
}

const megabytes = (n: number) => `${(n / 1_048_576).toFixed(1)}`;

const DAY_MS = 86_400_000;

/** The UTC calendar day before `now`, `[from, to)`. */
const yesterday = (now: Date) => {
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  return { from: new Date(to.getTime() - DAY_MS), to };
};

/** `YYYY-MM-DD` as the instant its UTC day starts. */
const dayStart = (value: string, option: string): Date => {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00.000Z`) : undefined;
  if (!date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value)
    throw new CliUsageError(`${option} must be a date YYYY-MM-DD, not "${value}".`);
  return date;
};

/**
 * The period of `--day` (one UTC day) or `--from`/`--to` (UTC days, both included); none of them:
 * yesterday (UTC), as the nightly schedule would.
 */
export function reconcilePeriod(
  options: { readonly day?: string; readonly from?: string; readonly to?: string },
  now: Date = new Date(),
): { from: Date; to: Date } {
  if (options.day !== undefined) {
    if (options.from !== undefined || options.to !== undefined)
      throw new CliUsageError("Pass either --day or --from/--to, not both.");
    const from = dayStart(options.day, "--day");
    return { from, to: new Date(from.getTime() + DAY_MS) };
  }
  if ((options.from === undefined) !== (options.to === undefined))
    throw new CliUsageError("--from and --to go together.");
  if (options.from !== undefined && options.to !== undefined) {
    const from = dayStart(options.from, "--from");
    const last = dayStart(options.to, "--to");
    if (last < from) throw new CliUsageError("--to is before --from.");
    return { from, to: new Date(last.getTime() + DAY_MS) };
  }
  return yesterday(now);
}

/** 0 when the run is clean, 1 when it found discrepancies. */
export const reconcileExitCode = (summary: ReconcileSummary): 0 | 1 =>
  summary.discrepancies > 0 ? ExitCode.FINDINGS : ExitCode.OK;

/** The summary as a table plus one verdict line. */
export function formatReconcileSummary(summary: ReconcileSummary): string {
  const period = summary.period ? ` ${summary.period.from} → ${summary.period.to}` : "";
  const head = `Reconciliation ${summary.runId} of ${summary.psp}${period}: ${summary.records} records${
    summary.replayed ? " (unchanged: this source was reconciled before)" : ""
  }${summary.supersedes ? ` (supersedes ${summary.supersedes})` : ""}${
    summary.anomaly ? `\nThe run itself is a discrepancy: ${summary.anomaly}.` : ""
  }`;
  const table = formatTable(
    ["class", "currency", "count", "amount (minor units)"],
    summary.classes.map((c) => [c.class, c.currency, String(c.count), c.amount.toString()]),
  );
  const verdict =
    summary.discrepancies === 0
      ? "OK: no discrepancies."
      : `${summary.discrepancies} discrepanc${summary.discrepancies === 1 ? "y" : "ies"} found.`;
  return `${head}\n\n${table}\n\n${verdict}\n`;
}

/** The JSON document of `--json` (bigints as strings). */
export const reconcileJson = (summary: ReconcileSummary) => ({
  run_id: summary.runId,
  psp: summary.psp,
  period: summary.period ?? null,
  records: summary.records,
  classes: summary.classes.map((c) => ({ ...c, amount: c.amount.toString() })),
  discrepancies: summary.discrepancies,
  replayed: summary.replayed ?? false,
  supersedes: summary.supersedes ?? null,
  anomaly: summary.anomaly ?? null,
});

export interface ReconcileOptions {
  readonly psp: string;
  readonly file: string;
  readonly bank?: string;
  readonly format?: ReconcileFormat;
  readonly day?: string;
  readonly from?: string;
  readonly to?: string;
  readonly json?: boolean;
}

/** Runs one reconciliation through `engine` and prints it; returns the exit code. */
export async function runReconcile(
  engine: ReconcileEngine,
  options: ReconcileOptions,
  context: { readonly system: PaymentSystem; readonly db: OpenDatabase; readonly io: CliIo },
): Promise<number> {
  if (options.format !== undefined && !RECONCILE_FORMATS.includes(options.format))
    throw new CliUsageError(
      `--format must be one of ${RECONCILE_FORMATS.join(", ")}, not "${String(options.format)}".`,
    );
  const period = reconcilePeriod(options);
  const files = [options.file, ...(options.bank ? [options.bank] : [])];
  let totalBytes = 0;
  for (const file of files) {
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) throw new CliUsageError(`No such file: ${file}`);
    totalBytes += info.size;
  }
  // Records reconciled is what an operator follows; bytes read beside it.
  const totalRecords = await recordsIn(options.file);
  let bytesRead = 0;
  const progress = createProgress({
    label: `reconcile ${options.psp}`,
    unit: "records",
    total: totalRecords,
    stream: context.io.stderr,
    note: () =>
      totalBytes >= 1_048_576
        ? `${megabytes(bytesRead)}/${megabytes(totalBytes)} MB`
        : `${bytesRead}/${totalBytes} bytes`,
  });
  let summary: ReconcileSummary;
  try {
    summary = await engine.reconcile(
      {
        psp: options.psp,
        file: options.file,
        ...(options.bank ? { bank: options.bank } : {}),
        ...(options.format ? { format: options.format } : {}),
        period,
        onProgress: ({ bytes, records }) => {
          bytesRead = Math.min(bytes, totalBytes);
          progress.update(Math.min(records, totalRecords));
        },
      },
      { system: context.system, db: context.db },
    );
    // The run's own count at the end (the line count sees blank lines, not quoted newlines).
    bytesRead = totalBytes;
    progress.update(summary.records, summary.records);
  } finally {
    progress.stop();
  }
  if (options.json) writeJson(context.io, reconcileJson(summary));
  else context.io.stdout.write(formatReconcileSummary(summary));
  return reconcileExitCode(summary);
}

/** Declares `settlekit reconcile`; `run` gets its parsed options. */
export function reconcileCommand(
  program: Command,
  run: (options: ReconcileOptions & { db?: string; config?: string }) => Promise<void>,
) {
  return program
    .command("reconcile")
    .description(
      "Reconcile a PSP settlement file (and optionally a bank statement) against the ledger; exit code 1 when discrepancies are found.",
    )
    .requiredOption("--psp <id>", "the PSP whose settlement this is (e.g. sandbox, stripe)")
    .requiredOption("--file <path>", "the settlement file (CSV) to reconcile")
    .option(
      "--bank <path>",
      "a bank statement CSV (date, amount, currency, reference) for the three-way match",
    )
    .option(
      "--format <format>",
      `the file's format: ${RECONCILE_FORMATS.join(" | ")} (default: the PSP's own)`,
    )
    .option("--day <YYYY-MM-DD>", "the settlement day (UTC) to reconcile (default: yesterday)")
    .option("--from <YYYY-MM-DD>", "first settlement day (UTC) of the period, with --to")
    .option("--to <YYYY-MM-DD>", "last settlement day (UTC) of the period, included")
    .option("--db <url>", "database URL (default: $DATABASE_URL)")
    .option(
      "--config <file>",
      "module exporting your payment system factory (default: ./settlekit.config.mjs)",
    )
    .option("--json", "print the run as JSON")
    .action(run);
}
