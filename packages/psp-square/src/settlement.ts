import type { SettlementQuery, SettlementRecord, SettlementRecordType } from "@settlekit/core";
import type { Square } from "square";
import { call } from "./errors.js";
import type { ResolvedSquareOptions } from "./options.js";
import { minor } from "./payments.js";

/** Square's payout entry types in reconciliation's words. */
function recordType(type: string | undefined): SettlementRecordType {
  switch (type) {
    case "CHARGE":
      return "charge";
    case "REFUND":
      return "refund";
    case "FEE":
    case "TAX_ON_FEE":
    case "DEPOSIT_FEE":
    case "DEPOSIT_FEE_REVERSED":
    case "THIRD_PARTY_FEE":
    case "THIRD_PARTY_FEE_REFUND":
      return "fee";
    case "ADJUSTMENT":
    case "HOLD_ADJUSTMENT":
    case "RELEASE_ADJUSTMENT":
    case "OTHER_ADJUSTMENT":
    case "RESERVE_HOLD":
    case "RESERVE_RELEASE":
      return "adjustment";
    // A chargeback's money: matched against the dispute's journals (by `disputeReference`).
    case "DISPUTE":
    case "OPEN_DISPUTE":
      return "dispute";
    default:
      return "other";
  }
}

/** The order (settlekit's `pspReference`) and payment id of a Square payment, read once per payment and read. */
type PaymentRef = { readonly pspReference?: string; readonly paymentId?: string };

async function resolvePayment(options: ResolvedSquareOptions, paymentId: string): Promise<PaymentRef> {
  const { payment } = await call("Retrieving the Square payment", () =>
    options.client.payments.get({ paymentId }),
  );
  const orderId = payment?.orderId;
  if (!orderId) return {};
  if (payment.referenceId) return { pspReference: orderId, paymentId: payment.referenceId };
  const { order } = await call("Retrieving the Square order", () => options.client.orders.get({ orderId }));
  return { pspReference: orderId, ...(order?.referenceId ? { paymentId: order.referenceId } : {}) };
}

/** One payout entry as a settlement record: gross, fee and net exact (`net = gross − fee`, as Square reports them). */
async function toRecord(
  options: ResolvedSquareOptions,
  entry: Square.PayoutEntry,
  refs: Map<string, Promise<PaymentRef>>,
): Promise<SettlementRecord> {
  const dispute = entry.typeDisputeDetails ?? entry.typeOpenDisputeDetails;
  const squarePaymentId =
    entry.typeChargeDetails?.paymentId ??
    entry.typeRefundDetails?.paymentId ??
    dispute?.paymentId ??
    undefined;
  let ref: PaymentRef = {};
  if (squarePaymentId) {
    let pending = refs.get(squarePaymentId);
    if (!pending) {
      pending = resolvePayment(options, squarePaymentId);
      refs.set(squarePaymentId, pending);
    }
    ref = await pending;
  }
  const refundReference = entry.typeRefundDetails?.refundId ?? undefined;
  const disputeReference = dispute?.disputeId ?? undefined;
  return {
    recordId: entry.id,
    type: recordType(entry.type),
    amount: minor(entry.grossAmountMoney?.amount, `payout entry ${entry.id}`),
    fee: minor(entry.feeAmountMoney?.amount ?? 0n, `payout entry ${entry.id}`),
    net: minor(entry.netAmountMoney?.amount, `payout entry ${entry.id}`),
    currency: String(entry.grossAmountMoney?.currency ?? options.currency),
    createdAt: new Date(entry.effectiveAt ?? 0),
    ...(ref.paymentId ? { paymentId: ref.paymentId } : {}),
    ...(ref.pspReference ? { pspReference: ref.pspReference } : {}),
    ...(refundReference ? { refundReference } : {}),
    ...(disputeReference ? { disputeReference } : {}),
    bankPayoutReference: entry.payoutId,
  };
}

/** Items of a Square list, page after page, a failure on any page classified. */
async function* listed<T>(context: string, first: () => Promise<AsyncIterable<T>>): AsyncGenerator<T> {
  const iterator = (await call(context, first))[Symbol.asyncIterator]();
  for (;;) {
    const next = await call(context, () => iterator.next());
    if (next.done) return;
    yield next.value;
  }
}

const entriesOf = (options: ResolvedSquareOptions, payoutId: string) =>
  listed("Listing the Square payout entries", () =>
    options.client.payouts.listEntries({ payoutId, sortOrder: "ASC" }),
  );

/**
 * Settlement records from Square's payouts: every entry (CHARGE, REFUND, DISPUTE, FEE…) of one payout
 * (`bankPayoutReference`: a payout id `po_…`), or of the payouts created since `from` whose entries
 * took effect in `[from, to)`. Square lists a movement only once a payout carries it: what is not
 * paid out yet is not listed. Pages are read as they are consumed.
 */
export async function* readPayoutEntries(
  options: ResolvedSquareOptions,
  query: SettlementQuery,
): AsyncGenerator<SettlementRecord> {
  const refs = new Map<string, Promise<PaymentRef>>();
  if ("bankPayoutReference" in query) {
    for await (const entry of entriesOf(options, query.bankPayoutReference))
      yield await toRecord(options, entry, refs);
    return;
  }
  const from = query.from.getTime();
  const to = query.to.getTime();
  const payouts = listed("Listing the Square payouts", () =>
    options.client.payouts.list({
      locationId: options.locationId,
      beginTime: query.from.toISOString(),
      sortOrder: "ASC",
    }),
  );
  for await (const payout of payouts) {
    for await (const entry of entriesOf(options, payout.id)) {
      const at = Date.parse(entry.effectiveAt ?? "");
      if (at >= from && at < to) yield await toRecord(options, entry, refs);
    }
  }
}
