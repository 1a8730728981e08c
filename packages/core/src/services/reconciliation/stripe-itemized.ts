import type { SettlementRecord, SettlementRecordType } from "../../ports/psp.js";
import { currencyCell, entryBatches, headedRowBatches, majorCell, oneByOne, timeCell } from "./csv-cells.js";
import type { FileStream } from "./csv-rows.js";
import type { SourceEntry } from "./sources.js";

/**
 * Stripe's `reporting_category` in the words reconciliation matches on (the itemized report here,
 * `@settlekit/psp-stripe`'s balance transactions): Connect transfers are payouts to sellers;
 * Stripe payouts go to the platform's bank.
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
  dispute: "dispute",
  dispute_reversal: "dispute",
  other_adjustment: "adjustment",
};

/** A Stripe `reporting_category` as a settlement record type (`other` for one not listed). */
export const stripeRecordType = (reportingCategory: string): SettlementRecordType =>
  STRIPE_CATEGORIES[reportingCategory] ?? "other";

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
export function stripeItemizedSource(
  file: FileStream,
  onChunk?: (chunk: Uint8Array | string) => void,
): AsyncGenerator<SourceEntry> {
  return oneByOne(stripeItemizedBatches(file, onChunk));
}

/** {@link stripeItemizedSource} a batch of entries per chunk of the file (what reconcile reads). */
export async function* stripeItemizedBatches(
  file: FileStream,
  onChunk?: (chunk: Uint8Array | string) => void,
): AsyncGenerator<SourceEntry[]> {
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
  const rows = headedRowBatches(
    file,
    required,
    (c) => {
      const recordId = c.need("balance_transaction_id");
      const currency = currencyCell(c.need("currency"));
      const category = c.need("reporting_category");
      const type = stripeRecordType(category);
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
        ...(type === "dispute" && source ? { disputeReference: source } : {}),
        ...(bankPayout && type !== "bank_payout" ? { bankPayoutReference: bankPayout } : {}),
      };
      return type === "bank_payout" ? { ...record, recordId: source ?? recordId } : record;
    },
    onChunk,
  );
  for await (const batch of entryBatches(rows)) {
    for (const entry of batch) {
      if (entry.kind !== "record") continue;
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
    yield batch;
  }
  const unlisted: SourceEntry[] = [];
  for (const [reference, p] of payouts) {
    if (p.listed) continue;
    unlisted.push({
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
    });
  }
  if (unlisted.length > 0) yield unlisted;
}
