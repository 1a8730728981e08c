import type { SettlementQuery, SettlementRecord } from "@settlekit/core";
import type Stripe from "stripe";
import { fromStripeAmount, isoCurrency } from "./currency.js";
import { toPspError } from "./errors.js";
import { fromUnix, idOf, META } from "./metadata.js";
import type { ResolvedStripeOptions } from "./options.js";
import { recordType } from "./settlement-records.js";

/**
 * Stripe's `created` is in whole seconds: a movement at second s lies in `[from, to)` exactly when
 * `s ≥ ⌈from⌉` and `s < ⌈to⌉` (a floor would drop the last partial second of the period).
 */
const unixCeil = (at: Date): number => Math.ceil(at.getTime() / 1000);

/** What a balance transaction's (expanded) source says about settlekit's ids. */
function sourceIds(source: Stripe.BalanceTransaction["source"]): Partial<SettlementRecord> {
  if (!source || typeof source === "string") return {};
  const paymentOf = (metadata: Stripe.Metadata | null | undefined, fallback?: string | null) => {
    const id = metadata?.[META.paymentId] || fallback;
    return id ? { paymentId: id } : {};
  };
  switch (source.object) {
    case "charge": {
      const charge = source as Stripe.Charge;
      const intent = idOf(charge.payment_intent);
      // The charge inherits the PaymentIntent's transfer_group, which settlekit sets to the payment id.
      return {
        ...paymentOf(charge.metadata, charge.transfer_group),
        ...(intent ? { pspReference: intent } : {}),
      };
    }
    case "refund": {
      const refund = source as Stripe.Refund;
      const payment = refund.metadata?.[META.sessionId] ?? idOf(refund.payment_intent);
      return {
        ...paymentOf(refund.metadata),
        refundReference: refund.id,
        ...(payment ? { pspReference: payment } : {}),
      };
    }
    case "transfer": {
      const transfer = source as Stripe.Transfer;
      return { ...paymentOf(transfer.metadata, transfer.transfer_group), payoutReference: transfer.id };
    }
    case "transfer_reversal": {
      // The payout's reference is the transfer's `tr_…` (what `payout` returned), as on the
      // report once `withReversedTransfers` resolved it; the reversal keeps its own `trr_…`.
      const reversal = source as Stripe.TransferReversal;
      const transfer = idOf(reversal.transfer);
      return { payoutReversalReference: reversal.id, ...(transfer ? { payoutReference: transfer } : {}) };
    }
    case "dispute": {
      // A chargeback's withdrawal or reinstatement: the dispute `du_…`, and the PaymentIntent disputed.
      const dispute = source as Stripe.Dispute;
      const intent = idOf(dispute.payment_intent);
      return { disputeReference: dispute.id, ...(intent ? { pspReference: intent } : {}) };
    }
    default:
      return {};
  }
}

/** One balance transaction as a settlement record, amounts in ISO minor units. */
export function balanceRecord(
  txn: Stripe.BalanceTransaction,
  bankPayoutReference?: string,
): SettlementRecord {
  const currency = isoCurrency(txn.currency);
  return {
    recordId: txn.id,
    type: recordType(txn.reporting_category),
    amount: fromStripeAmount(txn.amount, currency),
    fee: fromStripeAmount(txn.fee, currency),
    net: fromStripeAmount(txn.net, currency),
    currency,
    createdAt: fromUnix(txn.created),
    availableAt: fromUnix(txn.available_on),
    ...sourceIds(txn.source),
    ...(bankPayoutReference ? { bankPayoutReference } : {}),
  };
}

/**
 * `readSettlement` from `balanceTransactions.list`, by bank payout (`payout`, what an automatic
 * payout settled) or by creation time, with each source expanded so charges, refunds and
 * transfers carry settlekit's ids. stripe-node's auto-pagination fetches one page (100) at a time.
 */
export async function* readBalanceTransactions(
  options: ResolvedStripeOptions,
  query: SettlementQuery,
): AsyncGenerator<SettlementRecord> {
  const byPayout = "bankPayoutReference" in query;
  const params: Stripe.BalanceTransactionListParams = {
    limit: 100,
    expand: ["data.source"],
    ...(byPayout
      ? { payout: query.bankPayoutReference }
      : { created: { gte: unixCeil(query.from), lt: unixCeil(query.to) } }),
  };
  try {
    for await (const txn of options.client.balanceTransactions.list(params)) {
      yield balanceRecord(txn, byPayout ? query.bankPayoutReference : undefined);
    }
  } catch (error) {
    throw toPspError(error, "Listing balance transactions");
  }
}
