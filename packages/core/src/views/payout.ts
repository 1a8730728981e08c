import type { Payout, PayoutLine, SellerPayoutAccount } from "../domain/payout.js";
import type { JsonObject } from "../ports/json.js";
import type { PayoutDetails, RequestPayoutResult, WalletTransaction } from "../results.js";

const iso = (date: Date | undefined | null) => (date ? date.toISOString() : null);

/** A payout (`object: "payout"`): money as decimal strings of minor units, beside its currency. */
export function payoutView(payout: Payout): JsonObject {
  return {
    id: payout.id,
    object: "payout",
    seller_id: payout.sellerId,
    psp: payout.pspId,
    status: payout.status,
    trigger: payout.trigger,
    amount: payout.amount.toString(),
    currency: payout.currency,
    source_amount: payout.sourceAmount.toString(),
    source_currency: payout.sourceCurrency,
    fx: payout.fx
      ? {
          rate_id: payout.fx.rateId,
          source: payout.fx.source,
          rate: payout.fx.rate,
          spread_bps: payout.fx.spreadBps,
          converted_amount: payout.fx.convertedAmount.toString(),
          spread_amount: payout.fx.spreadAmount.toString(),
        }
      : null,
    psp_payout_reference: payout.pspPayoutReference ?? null,
    attempts: payout.attempts,
    failure_code: payout.failureCode ?? null,
    failure_message: payout.failureMessage ?? null,
    amount_reversed: payout.amountReversed.toString(),
    created_at: payout.createdAt.toISOString(),
    paid_at: iso(payout.paidAt),
    failed_at: iso(payout.failedAt),
  };
}

/** One journal a payout pays (`object: "payout_line"`). */
export function payoutLineView(line: PayoutLine): JsonObject {
  return {
    object: "payout_line",
    journal_reference: line.journalReference,
    kind: line.kind,
    amount: line.amount.toString(),
    currency: line.currency,
    posted_at: line.postedAt.toISOString(),
  };
}

/** A payout with the journal lines it pays: `lines` sum to `source_amount`. */
export function payoutDetailsView(details: PayoutDetails): JsonObject {
  return { ...payoutView(details.payout), lines: details.lines.map(payoutLineView) };
}

/** A seller's payout settings (`object: "payout_schedule"`). */
export function payoutScheduleView(account: SellerPayoutAccount): JsonObject {
  return {
    object: "payout_schedule",
    seller_id: account.sellerId,
    interval: account.interval,
    payout_currency: account.payoutCurrency ?? null,
    next_payout_at: iso(account.nextPayoutAt),
    last_skip_reason: account.lastSkipReason ?? null,
  };
}

/** One wallet movement (`object: "wallet_transaction"`): the journal and what it did to each balance. */
export function walletTransactionView(t: WalletTransaction): JsonObject {
  return {
    id: t.id,
    object: "wallet_transaction",
    type: t.type,
    journal_reference: t.journalReference,
    currency: t.currency,
    pending: t.pending.toString(),
    available: t.available.toString(),
    reserved: t.reserved.toString(),
    held: t.held.toString(),
    payment_id: t.paymentId ?? null,
    payment_order_id: t.paymentOrderId ?? null,
    payout_id: t.payoutId ?? null,
    created_at: t.createdAt.toISOString(),
  };
}

/**
 * What asking for a payout did (`object: "payout_request"`): the payouts reserved, as they stand
 * after the PSP was asked, and per currency why nothing was reserved (`available` signed).
 */
export function payoutRequestView(result: RequestPayoutResult): JsonObject {
  return {
    object: "payout_request",
    payouts: result.payouts.map(payoutView),
    skipped: result.skipped.map((s) => ({
      currency: s.currency,
      reason: s.reason,
      available: s.available.toString(),
    })),
  };
}

/** One payout cycle run on request (`object: "payout_cycle"`): sellers scheduled, payout jobs run. */
export function payoutCycleView(cycle: { readonly scheduled: number; readonly jobs: number }): JsonObject {
  return { object: "payout_cycle", scheduled: cycle.scheduled, jobs: cycle.jobs };
}
