import { ErrorCodes, isSettlekitError, SettlekitError } from "../../errors.js";
import { currencyExponent } from "../../money/currency.js";
import { parseMoney } from "../../money/decimal.js";
import type {
  PaymentProvider,
  SettlementQuery,
  SettlementRecord,
  SettlementRecordType,
} from "../../ports/psp.js";
import type { FileStream } from "./csv-rows.js";
import { csvRows } from "./csv-rows.js";

/** What a source yields: a settlement record (with its line when read from a file), or a line that could not be read. */
export type SourceEntry =
  | { readonly kind: "record"; readonly record: SettlementRecord; readonly line?: number | undefined }
  | { readonly kind: "invalid"; readonly line: number; readonly message: string; readonly recordId?: string };

/** One line of a bank statement: money the platform's bank account received (positive) or sent. */
export interface BankStatementLine {
  readonly line: number;
  /** The booking date (UTC midnight). */
  readonly date: Date;
  /** Minor units, exact. */
  readonly amount: bigint;
  readonly currency: string;
  /** The bank's reference text: for a PSP payout, usually the PSP's payout id (Stripe `po_…`). */
  readonly reference: string;
}

export type BankEntry =
  | { readonly kind: "line"; readonly entry: BankStatementLine }
  | { readonly kind: "invalid"; readonly line: number; readonly message: string };

/** A cell could not be read: the row becomes an `invalid_row` item. */
class BadCell extends Error {}

const bad = (message: string): never => {
  throw new BadCell(message);
};

/** A row's cells by column name, with checks that turn into `invalid_row` items. */
interface Cells {
  get(column: string | undefined): string | undefined;
  need(column: string): string;
}

/**
 * Reads a CSV with a header line; rows whose cell count is not the header's, and rows `build`
 * throws {@link BadCell} for, come out as invalid entries with their line number. A header that
 * lacks a `required` column makes the whole file unreadable (`VALIDATION_FAILED`).
 */
async function* headedRows<T>(
  file: FileStream,
  required: readonly string[],
  build: (cells: Cells, line: number) => T,
  onChunk?: (chunk: Uint8Array | string) => void,
): AsyncGenerator<{ line: number; value: T } | { line: number; invalid: string }> {
  let index: Map<string, number> | undefined;
  let width = 0;
  for await (const { line, cells } of csvRows(file, onChunk)) {
    if (!index) {
      index = new Map(cells.map((name, i) => [name.trim(), i]));
      width = cells.length;
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
    if (cells.length !== width) {
      yield { line, invalid: `expected ${width} columns, found ${cells.length}` };
      continue;
    }
    const columns = index;
    const get = (column: string | undefined) => {
      const at = column === undefined ? undefined : columns.get(column);
      const value = at === undefined ? undefined : cells[at]?.trim();
      return value === "" ? undefined : value;
    };
    const need = (column: string) => get(column) ?? bad(`${column} is missing`);
    try {
      yield { line, value: build({ get, need }, line) };
    } catch (error) {
      if (error instanceof BadCell) yield { line, invalid: error.message };
      else throw error;
    }
  }
}

/** An ISO 4217 code (any case in the file), or the row is invalid. */
function currencyCell(value: string): string {
  const code = value.toUpperCase();
  try {
    currencyExponent(code);
  } catch {
    bad(`unknown currency ${JSON.stringify(value)}`);
  }
  return code;
}

/** Minor units written as an integer (`12345` is USD 123.45). */
function minorCell(value: string, column: string): bigint {
  if (!/^-?[0-9]+$/.test(value)) bad(`${column} ${JSON.stringify(value)} is not an integer amount`);
  return BigInt(value);
}

/** A major-unit decimal (`123.45` USD, `5000` JPY, `1.234` KWD) as exact minor units (core's `parseMoney`). */
function majorCell(value: string, currency: string, column: string): bigint {
  try {
    return parseMoney(value, currency, { param: column }).amount;
  } catch (error) {
    if (isSettlekitError(error)) bad(`${column} ${JSON.stringify(value)}: ${error.message}`);
    throw error;
  }
}

function timeCell(value: string, column: string): Date {
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

const RECORD_TYPES: readonly SettlementRecordType[] = [
  "charge",
  "refund",
  "payout",
  "bank_payout",
  "fee",
  "adjustment",
  "other",
];

/**
 * The settlement file of `@settlekit/psp-sandbox` (`reference,type,amount,fee,net,currency,settled_at`,
 * integer minor units): a charge's reference is the payment's PSP reference, a refund's the
 * refund reference, a payout's the payout reference.
 */
export async function* sandboxCsvSource(
  file: FileStream,
  onChunk?: (chunk: Uint8Array | string) => void,
): AsyncGenerator<SourceEntry> {
  const columns = ["reference", "type", "amount", "fee", "net", "currency", "settled_at"];
  const rows = headedRows(
    file,
    columns,
    (c) => {
      const reference = c.need("reference");
      const type = c.need("type");
      if (type !== "charge" && type !== "refund" && type !== "payout")
        bad(`unknown type ${JSON.stringify(type)}`);
      const currency = currencyCell(c.need("currency"));
      const record: SettlementRecord = {
        recordId: reference,
        type: type as SettlementRecordType,
        amount: minorCell(c.need("amount"), "amount"),
        fee: minorCell(c.need("fee"), "fee"),
        net: minorCell(c.need("net"), "net"),
        currency,
        createdAt: timeCell(c.need("settled_at"), "settled_at"),
        ...(type === "charge" ? { pspReference: reference } : {}),
        ...(type === "refund" ? { refundReference: reference } : {}),
        ...(type === "payout" ? { payoutReference: reference } : {}),
      };
      return record;
    },
    onChunk,
  );
  yield* asEntries(rows);
}

async function* asEntries(
  rows: AsyncIterable<{ line: number; value: SettlementRecord } | { line: number; invalid: string }>,
): AsyncGenerator<SourceEntry> {
  for await (const row of rows) {
    yield "invalid" in row
      ? { kind: "invalid", line: row.line, message: row.invalid }
      : { kind: "record", record: row.value, line: row.line };
  }
}

/**
 * Stripe's `reporting_category` in the words reconciliation matches on (as `@settlekit/psp-stripe`
 * maps them): Connect transfers are payouts to sellers; Stripe payouts go to the platform's bank.
 */
const STRIPE_CATEGORIES: Readonly<Record<string, SettlementRecordType>> = {
  charge: "charge",
  charge_failure: "charge",
  refund: "refund",
  refund_failure: "refund",
  partial_capture_reversal: "charge",
  transfer: "payout",
  transfer_reversal: "payout",
  payout: "bank_payout",
  payout_reversal: "bank_payout",
  fee: "fee",
  platform_earning: "fee",
  platform_earning_refund: "fee",
  dispute: "adjustment",
  dispute_reversal: "adjustment",
  other_adjustment: "adjustment",
};

/**
 * Stripe's itemized payout reconciliation report (`payout_reconciliation.itemized.5`, the
 * Dashboard's "Itemized" download), columns by their documented names in any order. Required:
 * `balance_transaction_id`, `created_utc`, `currency`, `gross`, `fee`, `net`,
 * `reporting_category`; read when present: `available_on_utc`, `automatic_payout_id`,
 * `source_id` (refund `re_…`, transfer `tr_…`, reversal `trr_…`), `payment_intent_id`, and
 * `payment_metadata[settlekit_payment_id]` / `refund_metadata[…]` / `transfer_metadata[…]`.
 * Amounts are major units and become exact minor units by the currency's ISO 4217 exponent.
 * A row with `automatic_payout_id` settles into that bank payout; the report has no row for the
 * bank payout itself, so each distinct `automatic_payout_id` also yields a `bank_payout` record
 * (net −Σ, at the end of the file) for the three-way match — unless the report lists it as a
 * `payout` row of its own.
 */
export async function* stripeItemizedSource(
  file: FileStream,
  onChunk?: (chunk: Uint8Array | string) => void,
): AsyncGenerator<SourceEntry> {
  const required = [
    "balance_transaction_id",
    "created_utc",
    "currency",
    "gross",
    "fee",
    "net",
    "reporting_category",
  ];
  const payouts = new Map<string, { currency: string; net: bigint; at: Date; listed: boolean }>();
  const rows = headedRows(
    file,
    required,
    (c) => {
      const recordId = c.need("balance_transaction_id");
      const currency = currencyCell(c.need("currency"));
      const category = c.need("reporting_category");
      const type = STRIPE_CATEGORIES[category] ?? "other";
      const source = c.get("source_id");
      const paymentId =
        c.get("payment_metadata[settlekit_payment_id]") ??
        c.get("refund_metadata[settlekit_payment_id]") ??
        c.get("transfer_metadata[settlekit_payment_id]");
      const pspReference = c.get("payment_intent_id");
      const bankPayout = c.get("automatic_payout_id");
      const available = c.get("available_on_utc");
      const record: SettlementRecord = {
        recordId,
        type,
        amount: majorCell(c.need("gross"), currency, "gross"),
        fee: majorCell(c.need("fee"), currency, "fee"),
        net: majorCell(c.need("net"), currency, "net"),
        currency,
        createdAt: timeCell(c.need("created_utc"), "created_utc"),
        ...(available ? { availableAt: timeCell(available, "available_on_utc") } : {}),
        ...(paymentId ? { paymentId } : {}),
        ...(pspReference ? { pspReference } : {}),
        ...(type === "refund" && source ? { refundReference: source } : {}),
        ...(category === "transfer" && source ? { payoutReference: source } : {}),
        ...(category === "transfer_reversal" && source ? { payoutReversalReference: source } : {}),
        ...(bankPayout && type !== "bank_payout" ? { bankPayoutReference: bankPayout } : {}),
      };
      return type === "bank_payout" ? { ...record, recordId: source ?? recordId } : record;
    },
    onChunk,
  );
  for await (const entry of asEntries(rows)) {
    if (entry.kind === "record") {
      const r = entry.record;
      if (r.type === "bank_payout") {
        const known = payouts.get(r.recordId);
        payouts.set(r.recordId, {
          currency: r.currency,
          net: known?.net ?? 0n,
          at: r.createdAt,
          listed: true,
        });
      } else if (r.bankPayoutReference) {
        const known = payouts.get(r.bankPayoutReference);
        payouts.set(r.bankPayoutReference, {
          currency: r.currency,
          net: (known?.net ?? 0n) + r.net,
          at: known?.at && known.at > r.createdAt ? known.at : r.createdAt,
          listed: known?.listed ?? false,
        });
      }
    }
    yield entry;
  }
  for (const [reference, p] of payouts) {
    if (p.listed) continue;
    yield {
      kind: "record",
      record: {
        recordId: reference,
        type: "bank_payout",
        amount: -p.net,
        fee: 0n,
        net: -p.net,
        currency: p.currency,
        createdAt: p.at,
      },
    };
  }
}

/** Which column holds what, for {@link mappedCsvSource}. Unset optional fields are not read. */
export interface CsvColumnMapping {
  readonly recordId: string;
  readonly amount: string;
  readonly currency: string;
  readonly createdAt: string;
  /** Column of the record type; its values go through `typeValues` (default: the type names themselves). */
  readonly type?: string;
  readonly typeValues?: Readonly<Record<string, SettlementRecordType>>;
  /** Type of every record when there is no `type` column (default `charge`). */
  readonly defaultType?: SettlementRecordType;
  readonly fee?: string;
  readonly net?: string;
  readonly paymentId?: string;
  readonly pspReference?: string;
  readonly refundReference?: string;
  readonly payoutReference?: string;
  readonly bankPayoutReference?: string;
  /** `minor` (integers, default) or `major` (decimals in the currency's units, converted exactly). */
  readonly amounts?: "minor" | "major";
}

/**
 * Any CSV with a header line, read through a column mapping. Fee defaults to 0 and net to
 * `amount − fee` when their columns are not mapped.
 */
export async function* mappedCsvSource(
  file: FileStream,
  mapping: CsvColumnMapping,
  onChunk?: (chunk: Uint8Array | string) => void,
): AsyncGenerator<SourceEntry> {
  const required = [mapping.recordId, mapping.amount, mapping.currency, mapping.createdAt];
  if (mapping.type) required.push(mapping.type);
  const money = (value: string, currency: string, column: string) =>
    mapping.amounts === "major" ? majorCell(value, currency, column) : minorCell(value, column);
  const rows = headedRows(
    file,
    required,
    (c) => {
      const currency = currencyCell(c.need(mapping.currency));
      let type: SettlementRecordType = mapping.defaultType ?? "charge";
      if (mapping.type) {
        const raw = c.need(mapping.type);
        const mapped = mapping.typeValues ? mapping.typeValues[raw] : RECORD_TYPES.find((t) => t === raw);
        type = mapped ?? bad(`unknown type ${JSON.stringify(raw)}`);
      }
      const amount = money(c.need(mapping.amount), currency, mapping.amount);
      const feeCell = c.get(mapping.fee);
      const fee = feeCell === undefined ? 0n : money(feeCell, currency, mapping.fee ?? "fee");
      const netCell = c.get(mapping.net);
      const net = netCell === undefined ? amount - fee : money(netCell, currency, mapping.net ?? "net");
      const optional = (field: keyof SettlementRecord, column: string | undefined) => {
        const value = c.get(column);
        return value === undefined ? {} : { [field]: value };
      };
      return {
        recordId: c.need(mapping.recordId),
        type,
        amount,
        fee,
        net,
        currency,
        createdAt: timeCell(c.need(mapping.createdAt), mapping.createdAt),
        ...optional("paymentId", mapping.paymentId),
        ...optional("pspReference", mapping.pspReference),
        ...optional("refundReference", mapping.refundReference),
        ...optional("payoutReference", mapping.payoutReference),
        ...optional("bankPayoutReference", mapping.bankPayoutReference),
      } as SettlementRecord;
    },
    onChunk,
  );
  yield* asEntries(rows);
}

/** Column names of a bank statement CSV (defaults: `date`, `amount`, `currency`, `reference`). */
export interface BankStatementColumns {
  readonly date?: string;
  readonly amount?: string;
  readonly currency?: string;
  readonly reference?: string;
}

/**
 * A bank statement CSV: `date` (`YYYY-MM-DD`), `amount` (major units, positive = received),
 * `currency`, `reference`. The third leg of the match: each PSP bank payout must appear here.
 */
export async function* bankStatementSource(
  file: FileStream,
  columns: BankStatementColumns = {},
  onChunk?: (chunk: Uint8Array | string) => void,
): AsyncGenerator<BankEntry> {
  const names = {
    date: columns.date ?? "date",
    amount: columns.amount ?? "amount",
    currency: columns.currency ?? "currency",
    reference: columns.reference ?? "reference",
  };
  const rows = headedRows(
    file,
    Object.values(names),
    (c, line): BankStatementLine => {
      const currency = currencyCell(c.need(names.currency));
      return {
        line,
        date: timeCell(c.need(names.date), names.date),
        amount: majorCell(c.need(names.amount), currency, names.amount),
        currency,
        reference: c.need(names.reference),
      };
    },
    onChunk,
  );
  for await (const row of rows) {
    yield "invalid" in row
      ? { kind: "invalid", line: row.line, message: row.invalid }
      : { kind: "line", entry: row.value };
  }
}

/** The PSP's own records for the period (`readSettlement`), as source entries. */
export async function* providerSource(
  provider: PaymentProvider,
  period: { from: Date; to: Date },
): AsyncGenerator<SourceEntry> {
  if (!provider.readSettlement) {
    throw new SettlekitError(
      ErrorCodes.PROVIDER_CAPABILITY_MISSING,
      `Payment provider "${provider.id}" cannot read its settlement (no readSettlement); upload its file instead.`,
      { param: "provider" },
    );
  }
  const query: SettlementQuery = { from: period.from, to: period.to };
  for await (const record of provider.readSettlement(query)) yield { kind: "record", record };
}
