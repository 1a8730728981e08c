import { ErrorCodes, isSettlekitError, SettlekitError } from "../../errors.js";
import { currencyExponent } from "../../money/currency.js";
import { parseMoney } from "../../money/decimal.js";
import type { SettlementRecord } from "../../ports/psp.js";
import type { FileStream } from "./csv-rows.js";
import { csvRowBatches } from "./csv-rows.js";
import type { SourceEntry } from "./sources.js";

/** A cell could not be read: the row becomes an `invalid_row` item. */
export class BadCell extends Error {}

export const bad = (message: string): never => {
  throw new BadCell(message);
};

/** A row's cells by column name, with checks that turn into `invalid_row` items. */
export interface Cells {
  get(column: string | undefined): string | undefined;
  need(column: string): string;
}

/** One row's outcome: its value, or why it is an invalid row. */
export type HeadedRow<T> = { line: number; value: T } | { line: number; invalid: string };

/**
 * Reads a CSV with a header line, a batch of rows per chunk of the file; rows whose cell count is
 * not the header's, and rows `build` throws {@link BadCell} for, come out as invalid entries with
 * their line number. A header that lacks a `required` column makes the whole file unreadable
 * (`VALIDATION_FAILED`). `build` gets one {@link Cells} reader, pointed at each row in turn: it
 * must not keep it.
 */
export async function* headedRowBatches<T>(
  file: FileStream,
  required: readonly string[],
  build: (cells: Cells, line: number) => T,
  onChunk?: (chunk: Uint8Array | string) => void,
): AsyncGenerator<HeadedRow<T>[]> {
  let index: Map<string, number> | undefined;
  let width = 0;
  let row: readonly string[] = [];
  const get = (column: string | undefined) => {
    const at = column === undefined ? undefined : index?.get(column);
    const value = at === undefined ? undefined : row[at]?.trim();
    return value === "" ? undefined : value;
  };
  const cells: Cells = { get, need: (column) => get(column) ?? bad(`${column} is missing`) };
  for await (const batch of csvRowBatches(file, onChunk)) {
    const out: HeadedRow<T>[] = [];
    for (const { line, cells: values } of batch) {
      if (!index) {
        index = new Map(values.map((name, i) => [name.trim(), i]));
        width = values.length;
        const missing = required.filter((c) => !index?.has(c));
        if (missing.length > 0) {
          throw new SettlekitError(
            ErrorCodes.VALIDATION_FAILED,
            `The file's header lacks the column(s) ${missing.join(", ")}.`,
            { param: "file", details: { missing } },
          );
        }
        continue;
      }
      if (values.length !== width) {
        out.push({ line, invalid: `expected ${width} columns, found ${values.length}` });
        continue;
      }
      row = values;
      try {
        out.push({ line, value: build(cells, line) });
      } catch (error) {
        if (error instanceof BadCell) out.push({ line, invalid: error.message });
        else throw error;
      }
    }
    if (out.length > 0) yield out;
  }
}

/** An ISO 4217 code (any case in the file), or the row is invalid. */
export function currencyCell(value: string): string {
  const code = value.toUpperCase();
  try {
    currencyExponent(code);
  } catch {
    bad(`unknown currency ${JSON.stringify(value)}`);
  }
  return code;
}

/** Minor units written as an integer (`12345` is USD 123.45). */
export function minorCell(value: string, column: string): bigint {
  if (!/^-?[0-9]+$/.test(value)) bad(`${column} ${JSON.stringify(value)} is not an integer amount`);
  return BigInt(value);
}

/** A major-unit decimal (`123.45` USD, `5000` JPY, `1.234` KWD) as exact minor units (core's `parseMoney`). */
export function majorCell(value: string, currency: string, column: string): bigint {
  try {
    return parseMoney(value, currency, { param: column }).amount;
  } catch (error) {
    if (isSettlekitError(error)) bad(`${column} ${JSON.stringify(value)}: ${error.message}`);
    throw error;
  }
}

export function timeCell(value: string, column: string): Date {
  // `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` (UTC, as Stripe's `*_utc` columns) or ISO 8601 with a zone.
  const normal = /^\d{4}-\d{2}-\d{2}$/.test(value)
    ? `${value}T00:00:00Z`
    : /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(value)
      ? `${value.replace(" ", "T")}Z`
      : value;
  const at = /^\d{4}-\d{2}-\d{2}T/.test(normal) ? new Date(normal) : new Date(Number.NaN);
  if (Number.isNaN(at.getTime())) bad(`${column} ${JSON.stringify(value)} is not a date`);
  return at;
}

/** Rows as source entries, batch by batch. */
export async function* entryBatches(
  rows: AsyncIterable<HeadedRow<SettlementRecord>[]>,
): AsyncGenerator<SourceEntry[]> {
  for await (const batch of rows) {
    yield batch.map(
      (row): SourceEntry =>
        "invalid" in row
          ? { kind: "invalid", line: row.line, message: row.invalid }
          : { kind: "record", record: row.value, line: row.line },
    );
  }
}

/** One entry at a time, from batches (the sources' public, per-entry form). */
export async function* oneByOne<T>(batches: AsyncIterable<readonly T[]>): AsyncGenerator<T> {
  for await (const batch of batches) yield* batch;
}
