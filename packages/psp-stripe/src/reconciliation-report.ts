import type { SettlementRecord } from "@settlekit/core";
import { currencyExponent, SettlekitError } from "@settlekit/core";
import type Stripe from "stripe";
import { parseCsv } from "./csv.js";
import { isoCurrency } from "./currency.js";
import { call } from "./errors.js";
import { idOf, META } from "./metadata.js";
import { recordType } from "./settlement-records.js";

/** Columns every row needs (Stripe's `payout_reconciliation.itemized.5` defaults include them). */
const REQUIRED = ["balance_transaction_id", "currency", "gross", "fee", "net", "reporting_category"] as const;

/** The metadata columns settlekit reads, in order of preference, for the payment id. */
const CHECKOUT_COLUMNS = [
  `payment_metadata[${META.paymentId}]`,
  `refund_metadata[${META.paymentId}]`,
  `transfer_metadata[${META.paymentId}]`,
];

const invalid = (line: number, column: string, message: string) =>
  new SettlekitError("VALIDATION_FAILED", `Report line ${line}, ${column}: ${message}`, {
    param: column,
    details: { line, column },
  });

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * A major-unit decimal from the report ("123.45" USD, "-5000" JPY, "1.230" KWD) as exact minor
 * units, by string arithmetic on the currency's ISO 4217 exponent: digits are concatenated and
 * padded, never multiplied as floats. Extra fraction digits are accepted only when they are zeros
 * (the value is still exact); anything else is refused, never rounded.
 */
export function majorToMinor(value: string, currency: string, line: number, column: string): bigint {
  const match = DECIMAL.exec(value);
  if (!match) throw invalid(line, column, `${JSON.stringify(value)} is not a decimal amount.`);
  const [, sign, whole = "", fraction = ""] = match;
  const exponent = currencyExponent(currency);
  const extra = fraction.slice(exponent);
  if (/[^0]/.test(extra)) {
    throw invalid(line, column, `${value} has more decimals than ${currency} has minor units (${exponent}).`);
  }
  const minor = BigInt(whole + fraction.slice(0, exponent).padEnd(exponent, "0"));
  return sign === "-" ? -minor : minor;
}

/** Report times are `YYYY-MM-DD HH:MM:SS` in UTC (the `*_utc` columns, or the others without a `timezone`). */
function utc(value: string, line: number, column: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:Z|\+00:?00)?$/.exec(value);
  const at = match
    ? Date.UTC(+match[1]!, +match[2]! - 1, +match[3]!, +match[4]!, +match[5]!, +match[6]!)
    : Number.NaN;
  if (Number.isNaN(at)) throw invalid(line, column, `${JSON.stringify(value)} is not a UTC time.`);
  return new Date(at);
}

/**
 * A transfer row's `source_id` is the transfer (`tr_…`, what `payout` returned). A reversal row's
 * is the reversal (`trr_…`), and the report has no column naming its transfer: the record keeps
 * the reversal as `payoutReversalReference` and gets its `payoutReference` from
 * {@link withReversedTransfers}, so both sources give a reversal the same reference.
 */
function payoutReferences(category: string, source: string | undefined): Partial<SettlementRecord> {
  if (!source) return {};
  if (category === "transfer_reversal") return { payoutReversalReference: source };
  return recordType(category) === "payout" ? { payoutReference: source } : {};
}

/**
 * Parses Stripe's itemized payout reconciliation report (`payout_reconciliation.itemized.5`, or
 * the Dashboard's "Itemized" download) into settlement records. Columns are found by name, in
 * any order; required: `balance_transaction_id`, `created_utc` (or `created`), `currency`,
 * `gross`, `fee`, `net`, `reporting_category`. Read when present: `available_on_utc` (or
 * `available_on`), `automatic_payout_id`, `source_id`, `payment_intent_id`, and the metadata
 * columns `payment_metadata[settlekit_payment_id]`, `refund_metadata[…]`,
 * `transfer_metadata[…]` (ask for them with the report's `columns` parameter).
 *
 * Amounts in the report are major units; they become exact minor units. Stripe reports fees as
 * positive costs and nets as `gross − fee`, as settlekit's records do. A transfer reversal's row
 * carries only the reversal's id (`payoutReversalReference`): pass the records through
 * {@link withReversedTransfers} to give it the transfer's `payoutReference`.
 *
 * @throws {SettlekitError} `VALIDATION_FAILED` naming the line and column of the first bad value.
 */
export function parseReconciliationReport(csv: string): SettlementRecord[] {
  const [header, ...rows] = parseCsv(csv);
  if (!header) throw invalid(1, "header", "the report is empty.");
  const index = new Map(header.map((name, i) => [name.trim(), i]));
  for (const column of REQUIRED) if (!index.has(column)) throw invalid(1, column, "missing column.");
  return rows
    .map((cells, i) => ({ cells, line: i + 2 }))
    .filter(({ cells }) => cells.some((c) => c !== ""))
    .map(({ cells, line }) => {
      const get = (column: string): string | undefined => {
        const at = index.get(column);
        const value = at === undefined ? undefined : cells[at]?.trim();
        return value === "" ? undefined : value;
      };
      const need = (column: string): string => {
        const value = get(column);
        if (value === undefined) throw invalid(line, column, "missing value.");
        return value;
      };
      const currency = isoCurrency(need("currency"));
      try {
        currencyExponent(currency);
      } catch (cause) {
        throw Object.assign(invalid(line, "currency", `unknown currency ${currency}.`), { cause });
      }
      const amount = majorToMinor(need("gross"), currency, line, "gross");
      const fee = majorToMinor(need("fee"), currency, line, "fee");
      const net = majorToMinor(need("net"), currency, line, "net");
      if (amount - fee !== net)
        throw invalid(line, "net", `gross − fee is not net (${amount} − ${fee} ≠ ${net}).`);
      const created = get("created_utc") ?? need("created");
      const available = get("available_on_utc") ?? get("available_on");
      const category = need("reporting_category");
      const type = recordType(category);
      const source = get("source_id");
      const paymentId = CHECKOUT_COLUMNS.map(get).find((v) => v !== undefined);
      const pspReference = get(`refund_metadata[${META.sessionId}]`) ?? get("payment_intent_id");
      const bankPayout = get("automatic_payout_id");
      return {
        recordId: need("balance_transaction_id"),
        type,
        amount,
        fee,
        net,
        currency,
        createdAt: utc(created, line, "created_utc"),
        ...(available ? { availableAt: utc(available, line, "available_on_utc") } : {}),
        ...(paymentId ? { paymentId } : {}),
        ...(pspReference ? { pspReference } : {}),
        ...(type === "refund" && source ? { refundReference: source } : {}),
        ...payoutReferences(category, source),
        ...(bankPayout ? { bankPayoutReference: bankPayout } : {}),
      };
    });
}

/**
 * Gives each transfer-reversal record (from {@link parseReconciliationReport}) the reference of
 * the payout it reverses — the transfer `tr_…` that `payout` returned, as `readSettlement` gives
 * it — by retrieving its balance transaction with the reversal expanded (one read per reversal
 * row; other records are returned as they are).
 *
 * @throws {PspError} as classified by `toPspError` when Stripe cannot be read.
 */
export async function withReversedTransfers(
  client: Stripe,
  records: readonly SettlementRecord[],
): Promise<SettlementRecord[]> {
  const out: SettlementRecord[] = [];
  // One at a time: a report can hold many reversals, and Stripe rate-limits reads too.
  for (const record of records) {
    if (!record.payoutReversalReference || record.payoutReference) {
      out.push(record);
      continue;
    }
    const txn = await call("Retrieving a transfer reversal's balance transaction", () =>
      client.balanceTransactions.retrieve(record.recordId, { expand: ["source"] }),
    );
    const source = txn.source;
    const transfer =
      source && typeof source === "object" && source.object === "transfer_reversal"
        ? idOf((source as Stripe.TransferReversal).transfer)
        : undefined;
    out.push(transfer ? { ...record, payoutReference: transfer } : record);
  }
  return out;
}
