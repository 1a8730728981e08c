import { readFile } from "node:fs/promises";
import type { JournalInput, PaymentSystem, ReconciliationItem } from "@settlekit/core";
import { CliUsageError, ExitCode } from "../exit-codes.js";
import type { CliIo } from "../io.js";
import { writeJson } from "../io.js";

/*
 * `settlekit reconciliations resolve <run> <item> --note … [--journal file.json]`: records who
 * resolved a discrepancy and why, with a correcting journal when one is given (core posts it in
 * the same transaction and checks the ledger's rules first: nothing is written when they fail).
 */

export interface ResolveOptions {
  readonly note?: string;
  readonly journal?: string;
  readonly by?: string;
  readonly json?: boolean;
}

const DIGITS = /^[1-9]\d{0,15}$/;
const FIELDS = new Set(["reference", "kind", "postings", "metadata"]);
const POSTING_FIELDS = new Set(["account", "currency", "direction", "amount"]);

/** Minor units as the REST API takes them: a JSON integer or a string of digits, exactly. */
function minorUnits(value: unknown, where: string): bigint {
  if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return BigInt(value);
  if (typeof value === "string" && DIGITS.test(value)) return BigInt(value);
  throw new CliUsageError(
    `${where} must be a positive amount in integer minor units (a JSON integer or a string of digits, "1234" for 12.34 USD), not ${JSON.stringify(value)}.`,
  );
}

const text = (value: unknown, where: string): string => {
  if (typeof value !== "string") throw new CliUsageError(`${where} must be a string.`);
  return value;
};

/**
 * A correcting journal file, as the REST API's `journal`: `{ reference?, kind?, postings: [{ account,
 * currency, direction, amount }], metadata? }`. Amounts become bigints here; the ledger's rules
 * (accounts, currencies, balance per currency) are core's to check.
 */
export function parseJournalFile(json: string, defaults: { reference: string; kind: string }): JournalInput {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new CliUsageError(`The journal file is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new CliUsageError("The journal file must hold one JSON object with `postings`.");
  const journal = value as Record<string, unknown>;
  for (const key of Object.keys(journal))
    if (!FIELDS.has(key)) throw new CliUsageError(`The journal file has an unknown field "${key}".`);
  if (!Array.isArray(journal.postings))
    throw new CliUsageError(
      "The journal file needs `postings`, a list of { account, currency, direction, amount }.",
    );
  const postings = journal.postings.map((p: unknown, i) => {
    const where = `postings.${i}`;
    if (typeof p !== "object" || p === null || Array.isArray(p))
      throw new CliUsageError(`${where} must be an object.`);
    const posting = p as Record<string, unknown>;
    for (const key of Object.keys(posting))
      if (!POSTING_FIELDS.has(key)) throw new CliUsageError(`${where} has an unknown field "${key}".`);
    const direction = text(posting.direction, `${where}.direction`);
    if (direction !== "debit" && direction !== "credit")
      throw new CliUsageError(`${where}.direction must be "debit" or "credit".`);
    return {
      account: text(posting.account, `${where}.account`),
      currency: text(posting.currency, `${where}.currency`),
      direction,
      amount: minorUnits(posting.amount, `${where}.amount`),
    } as const;
  });
  const metadata = journal.metadata ?? {};
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata))
    throw new CliUsageError("The journal file's `metadata` must be an object of strings.");
  return {
    reference: journal.reference === undefined ? defaults.reference : text(journal.reference, "reference"),
    kind: journal.kind === undefined ? defaults.kind : text(journal.kind, "kind"),
    postings,
    metadata: Object.fromEntries(
      Object.entries(metadata).map(([k, v]) => [k, text(v, `metadata.${k}`)] as const),
    ),
  };
}

/** Resolves the item and prints it; returns the exit code (0). */
export async function runResolve(
  system: PaymentSystem,
  io: CliIo,
  runId: string,
  item: string,
  options: ResolveOptions,
): Promise<number> {
  if (!/^\d{1,12}$/.test(item)) throw new CliUsageError(`<item> is an item's number (seq), not "${item}".`);
  const seq = Number(item);
  if (!options.note?.trim()) throw new CliUsageError("--note is required: say what was found and done.");
  const by = options.by ?? io.env.SETTLEKIT_OPERATOR ?? io.env.USER;
  if (!by?.trim()) throw new CliUsageError("Say who resolves it: --by <operator> (or $SETTLEKIT_OPERATOR).");
  let journal: JournalInput | undefined;
  if (options.journal !== undefined) {
    const json = await readFile(options.journal, "utf8").catch(() => {
      throw new CliUsageError(`No such file: ${options.journal}`);
    });
    journal = parseJournalFile(json, {
      reference: `reconciliation:${runId}:${seq}:correction`,
      kind: "reconciliation_correction",
    });
    journal = { ...journal, metadata: { ...journal.metadata, reconciliationId: runId, item: String(seq) } };
  }
  const resolved: ReconciliationItem = await system.resolveReconciliationItem({
    runId,
    seq,
    resolvedBy: by,
    note: options.note,
    ...(journal ? { journal } : {}),
  });
  const resolution = resolved.resolution!;
  if (options.json) {
    writeJson(io, {
      run_id: runId,
      item: seq,
      class: resolved.class,
      resolution: {
        resolved_by: resolution.resolvedBy,
        note: resolution.note,
        journal_reference: resolution.journalReference ?? null,
        resolved_at: resolution.resolvedAt.toISOString(),
      },
    });
  } else {
    io.stdout.write(
      `Resolved item ${seq} (${resolved.class}) of ${runId} as ${resolution.resolvedBy}${
        resolution.journalReference ? `, with journal ${resolution.journalReference}` : ""
      }.\n`,
    );
  }
  return ExitCode.OK;
}
