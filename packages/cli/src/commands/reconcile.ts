import { stat } from "node:fs/promises";
import type { PaymentSystem } from "@settlekit/core";
import type { Command } from "commander";
import type { OpenDatabase } from "../database.js";
import { CliUsageError, ExitCode } from "../exit-codes.js";
import type { CliIo } from "../io.js";
import { formatTable, writeJson } from "../io.js";
import { createProgress } from "../progress.js";

/*
 * THE PLACE FOR `settlekit reconcile` — everything but the engine is here: argument parsing, the
 * progress bar, the summary table, `--json` and the exit code. The reconciliation engine (core
 * `services/reconciliation`, `system.reconcile`) plugs in through {@link ReconcileEngine}: once it
 * lands, `defaultReconcileEngine` below calls it and maps its run to a {@link ReconcileSummary}.
 * Until then the command answers exit code 2 ("not available in this version").
 */

/** What the command passes the engine. */
export interface ReconcileInput {
  /** The PSP id (`--psp`). */
  readonly psp: string;
  /** The settlement file (`--file`), in the PSP's format. */
  readonly file: string;
  /** A bank statement CSV (`--bank`) for the third leg. */
  readonly bank?: string;
  /** The engine reports what it has read; the CLI draws the progress bar from it. */
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
}

/** The reconciliation engine as the CLI sees it. */
export interface ReconcileEngine {
  reconcile(
    input: ReconcileInput,
    context: { readonly system: PaymentSystem; readonly db: OpenDatabase },
  ): Promise<ReconcileSummary>;
}

/** The engine of this version: none yet (see the comment at the top of this file). */
export const defaultReconcileEngine: ReconcileEngine | undefined = undefined;

/** 0 when the run is clean, 1 when it found discrepancies. */
export const reconcileExitCode = (summary: ReconcileSummary): 0 | 1 =>
  summary.discrepancies > 0 ? ExitCode.FINDINGS : ExitCode.OK;

/** The summary as a table plus one verdict line. */
export function formatReconcileSummary(summary: ReconcileSummary): string {
  const period = summary.period ? ` ${summary.period.from} → ${summary.period.to}` : "";
  const head = `Reconciliation ${summary.runId} of ${summary.psp}${period}: ${summary.records} records${
    summary.replayed ? " (unchanged: this source was reconciled before)" : ""
  }${summary.supersedes ? ` (supersedes ${summary.supersedes})` : ""}`;
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
});

export interface ReconcileOptions {
  readonly psp: string;
  readonly file: string;
  readonly bank?: string;
  readonly json?: boolean;
}

/** Runs one reconciliation through `engine` and prints it; returns the exit code. */
export async function runReconcile(
  engine: ReconcileEngine,
  options: ReconcileOptions,
  context: { readonly system: PaymentSystem; readonly db: OpenDatabase; readonly io: CliIo },
): Promise<number> {
  const files = [options.file, ...(options.bank ? [options.bank] : [])];
  let totalBytes = 0;
  for (const file of files) {
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) throw new CliUsageError(`No such file: ${file}`);
    totalBytes += info.size;
  }
  const progress = createProgress({
    label: `reconcile ${options.psp}`,
    unit: "bytes",
    total: totalBytes,
    stream: context.io.stderr,
  });
  let summary: ReconcileSummary;
  try {
    summary = await engine.reconcile(
      {
        psp: options.psp,
        file: options.file,
        ...(options.bank ? { bank: options.bank } : {}),
        onProgress: ({ bytes }) => progress.update(Math.min(bytes, totalBytes)),
      },
      { system: context.system, db: context.db },
    );
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
    .option("--db <url>", "database URL (default: $DATABASE_URL)")
    .option(
      "--config <file>",
      "module exporting your payment system factory (default: ./settlekit.config.mjs)",
    )
    .option("--json", "print the run as JSON")
    .action(run);
}
