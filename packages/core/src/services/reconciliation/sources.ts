import { ErrorCodes, SettlekitError } from "../../errors.js";
import type {
  PaymentProvider,
  SettlementQuery,
  SettlementRecord,
  SettlementRecordType,
} from "../../ports/psp.js";
import {
  bad,
  currencyCell,
  entryBatches,
  headedRowBatches,
  majorCell,
  minorCell,
  oneByOne,
  timeCell,
} from "./csv-cells.js";
import type { FileStream } from "./csv-rows.js";

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

const RECORD_TYPES: readonly SettlementRecordType[] = [
  "charge",
  "refund",
  "payout",
  "bank_payout",
  "fee",
  "dispute",
  "adjustment",
  "other",
];

/**
 * The record id of a dispute's movement in a file that names it by the dispute's reference (the
 * sandbox's): `<reference>:withdrawn` for the money taken, `<reference>:reinstated` for money back.
 */
export const disputeRecordId = (disputeReference: string, amount: bigint): string =>
  `${disputeReference}:${amount < 0n ? "withdrawn" : "reinstated"}`;

/**
 * The settlement file of `@settlekit/psp-sandbox` (`reference,type,amount,fee,net,currency,settled_at,reverses`,
 * integer minor units): a charge's reference is the payment's PSP reference, a refund's the
 * refund reference, a payout's the payout reference. A row that gives money back for an earlier
 * one names it in `reverses` (optional column: files written before it still read): a payout's
 * reversal or return is a record of that payout (`payoutReference`) under its own reference
 * (`payoutReversalReference`), a refund's bounce a record of that refund (`refundReference`).
 */
export function sandboxCsvSource(
  file: FileStream,
  onChunk?: (chunk: Uint8Array | string) => void,
): AsyncGenerator<SourceEntry> {
  return oneByOne(sandboxCsvBatches(file, onChunk));
}

/** {@link sandboxCsvSource} a batch of entries per chunk of the file (what reconcile reads). */
export function sandboxCsvBatches(
  file: FileStream,
  onChunk?: (chunk: Uint8Array | string) => void,
): AsyncGenerator<SourceEntry[]> {
  const columns = ["reference", "type", "amount", "fee", "net", "currency", "settled_at"];
  const rows = headedRowBatches(
    file,
    columns,
    (c) => {
      const reference = c.need("reference");
      const type = c.need("type");
      if (type !== "charge" && type !== "refund" && type !== "payout" && type !== "dispute")
        bad(`unknown type ${JSON.stringify(type)}`);
      const currency = currencyCell(c.need("currency"));
      const amount = minorCell(c.need("amount"), "amount");
      const reverses = c.get("reverses");
      const record: SettlementRecord = {
        // A dispute's two movements share its reference: the sign tells them apart.
        recordId: type === "dispute" ? disputeRecordId(reference, amount) : reference,
        type: type as SettlementRecordType,
        amount,
        fee: minorCell(c.need("fee"), "fee"),
        net: minorCell(c.need("net"), "net"),
        currency,
        createdAt: timeCell(c.need("settled_at"), "settled_at"),
        ...(type === "charge" ? { pspReference: reference } : {}),
        ...(type === "refund" ? { refundReference: reverses ?? reference } : {}),
        ...(type === "payout"
          ? reverses
            ? { payoutReference: reverses, payoutReversalReference: reference }
            : { payoutReference: reference }
          : {}),
        ...(type === "dispute" ? { disputeReference: reference } : {}),
      };
      return record;
    },
    onChunk,
  );
  return entryBatches(rows);
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
export function mappedCsvSource(
  file: FileStream,
  mapping: CsvColumnMapping,
  onChunk?: (chunk: Uint8Array | string) => void,
): AsyncGenerator<SourceEntry> {
  return oneByOne(mappedCsvBatches(file, mapping, onChunk));
}

/** {@link mappedCsvSource} a batch of entries per chunk of the file (what reconcile reads). */
export function mappedCsvBatches(
  file: FileStream,
  mapping: CsvColumnMapping,
  onChunk?: (chunk: Uint8Array | string) => void,
): AsyncGenerator<SourceEntry[]> {
  const required = [mapping.recordId, mapping.amount, mapping.currency, mapping.createdAt];
  if (mapping.type) required.push(mapping.type);
  const money = (value: string, currency: string, column: string) =>
    mapping.amounts === "major" ? majorCell(value, currency, column) : minorCell(value, column);
  const rows = headedRowBatches(
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
  return entryBatches(rows);
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
  const rows = headedRowBatches(
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
  for await (const batch of rows) {
    for (const row of batch) {
      yield "invalid" in row
        ? { kind: "invalid", line: row.line, message: row.invalid }
        : { kind: "line", entry: row.value };
    }
  }
}

/**
 * The PSP's own records for the period (`readSettlement`), as source entries. `bound` wraps each
 * read of the next record (reconcile passes `withPspTimeout`), so a PSP that stops answering fails
 * the run instead of holding it.
 */
export async function* providerSource(
  provider: PaymentProvider,
  period: { from: Date; to: Date },
  bound: <T>(call: () => Promise<T>) => Promise<T> = (call) => call(),
): AsyncGenerator<SourceEntry> {
  if (!provider.readSettlement) {
    throw new SettlekitError(
      ErrorCodes.PROVIDER_CAPABILITY_MISSING,
      `Payment provider "${provider.id}" cannot read its settlement (no readSettlement); upload its file instead.`,
      { param: "provider" },
    );
  }
  const query: SettlementQuery = { from: period.from, to: period.to };
  const records = provider.readSettlement(query)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await bound(() => records.next());
      if (next.done) return;
      yield { kind: "record", record: next.value };
    }
  } finally {
    void Promise.resolve(records.return?.()).catch(() => undefined);
  }
}

export { stripeItemizedBatches, stripeItemizedSource } from "./stripe-itemized.js";
