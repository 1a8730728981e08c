import type { SettlementQuery, SettlementRecord } from "@settlekit/core";
import { disputeRecordId, SettlekitError } from "@settlekit/core";
import type { SandboxState } from "./records.js";

/** The settlement file's header line. */
export const SETTLEMENT_CSV_HEADER = "reference,type,amount,fee,net,currency,settled_at,reverses";

/** One line of the settlement file, before formatting. */
export interface SettlementRow {
  /**
   * The payment's `sbx_pay_…` for a charge, the refund's `sbx_re_…`, the payout's `sbx_po_…`; for
   * money of a payout coming back, the reversal's `sbx_prv_…` or the failed payout's return
   * `sbx_por_…`; for a dispute's money (withdrawn, then reinstated if won) the dispute's `sbx_dp_…`.
   */
  readonly reference: string;
  readonly type: "charge" | "refund" | "payout" | "dispute";
  /**
   * Minor units; negative for refunds and payouts to sellers (money going back out), positive for
   * a payout's money coming back (a reversal, or a payout the seller's bank returned).
   */
  readonly amount: bigint;
  /** Minor units the sandbox keeps; 0 for refunds (fees are not returned, as at Stripe). */
  readonly fee: bigint;
  /** `amount − fee`: what reaches (or leaves) the host's bank account. */
  readonly net: bigint;
  readonly currency: string;
  readonly settledAt: Date;
  /**
   * For money given back for an earlier row, that row's reference: the payout (`sbx_po_…`) a
   * reversal (`sbx_prv_…`) or a return (`sbx_por_…`) belongs to, the refund (`sbx_re_…`) whose
   * money came back when it bounced (`sbx_rfb_…`). Empty otherwise.
   */
  readonly reverses?: string;
}

/** Parses `YYYY-MM-DD` into the UTC day [start, end). */
function utcDay(date: string): { start: number; end: number } {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const start = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
  // Date.UTC rolls 2026-02-30 over into March; round-tripping catches that.
  if (Number.isNaN(start) || new Date(start).toISOString().slice(0, 10) !== date) {
    throw new SettlekitError(
      "VALIDATION_FAILED",
      `Expected a date as YYYY-MM-DD, got ${JSON.stringify(date)}.`,
      {
        param: "date",
      },
    );
  }
  return { start, end: start + 86_400_000 };
}

/**
 * The rows settled on one UTC day. The sandbox settles at once: a charge on the instant its
 * payment succeeded, a refund on the instant it was made (real PSPs pay out days later; the
 * matching logic is the same). Sorted by settlement time, then reference, so the file is stable.
 */
export function settlementRows(state: SandboxState, date: string): SettlementRow[] {
  const { start, end } = utcDay(date);
  return rowsBetween(state, start, end).map(({ row }) => row);
}

/** A row and the ids reconciliation matches it by. */
interface SettledRow {
  readonly row: SettlementRow;
  readonly ids: Pick<
    SettlementRecord,
    | "paymentId"
    | "pspReference"
    | "refundReference"
    | "payoutReference"
    | "payoutReversalReference"
    | "disputeReference"
  >;
}

/** The rows settled in [start, end) (epoch ms), sorted by settlement time, then reference. */
function rowsBetween(state: SandboxState, start: number, end: number): SettledRow[] {
  const within = (at: Date | undefined): at is Date =>
    at !== undefined && at.getTime() >= start && at.getTime() < end;
  const rows: SettledRow[] = [];
  for (const payment of state.payments.values()) {
    if (!within(payment.succeededAt)) continue;
    const fee = payment.fee ?? 0n;
    rows.push({
      row: {
        reference: payment.pspReference,
        type: "charge",
        amount: payment.amount,
        fee,
        net: payment.amount - fee,
        currency: payment.currency,
        settledAt: payment.succeededAt,
      },
      ids: { paymentId: payment.paymentId, pspReference: payment.pspReference },
    });
  }
  for (const refund of state.refunds.values()) {
    const amount = -refund.amount;
    const paymentId = state.payments.get(refund.pspReference)?.paymentId;
    const refundIds = {
      ...(paymentId ? { paymentId } : {}),
      pspReference: refund.pspReference,
      refundReference: refund.refundReference,
    };
    // A refund that bounced after succeeding: its money back is a positive refund row of its own.
    if (refund.bouncedAt && refund.bounceReference && within(refund.bouncedAt)) {
      rows.push({
        row: {
          reference: refund.bounceReference,
          type: "refund",
          amount: refund.amount,
          fee: 0n,
          net: refund.amount,
          currency: refund.currency,
          settledAt: refund.bouncedAt,
          reverses: refund.refundReference,
        },
        ids: refundIds,
      });
    }
    const settled = refund.status === "succeeded" || refund.bouncedAt !== undefined;
    if (!settled || !within(refund.createdAt)) continue;
    rows.push({
      row: {
        reference: refund.refundReference,
        type: "refund",
        amount,
        fee: 0n,
        net: amount,
        currency: refund.currency,
        settledAt: refund.createdAt,
      },
      ids: refundIds,
    });
  }
  for (const payout of state.payouts.values()) {
    const payoutRow = (
      reference: string,
      amount: bigint,
      settledAt: Date,
      reversal?: string,
    ): SettledRow => ({
      row: {
        reference,
        type: "payout",
        amount,
        fee: 0n,
        net: amount,
        currency: payout.currency,
        settledAt,
        ...(reversal ? { reverses: payout.payoutReference } : {}),
      },
      ids: {
        ...(payout.paymentId ? { paymentId: payout.paymentId } : {}),
        ...(payout.pspReference ? { pspReference: payout.pspReference } : {}),
        payoutReference: payout.payoutReference,
        ...(reversal ? { payoutReversalReference: reversal } : {}),
      },
    });
    if (within(payout.createdAt))
      rows.push(payoutRow(payout.payoutReference, -payout.amount, payout.createdAt));
    // A payout the seller's bank returned: its whole amount is back at the platform.
    if (payout.returnReference && within(payout.failedAt)) {
      rows.push(payoutRow(payout.returnReference, payout.amount, payout.failedAt, payout.returnReference));
    }
  }
  for (const reversal of state.payoutReversals.values()) {
    const payout = state.payouts.get(reversal.payoutReference);
    if (!payout || !within(reversal.createdAt)) continue;
    rows.push({
      row: {
        reference: reversal.reversalReference,
        type: "payout",
        amount: reversal.amount,
        fee: 0n,
        net: reversal.amount,
        currency: reversal.currency,
        settledAt: reversal.createdAt,
        reverses: payout.payoutReference,
      },
      ids: {
        ...(payout.paymentId ? { paymentId: payout.paymentId } : {}),
        ...(payout.pspReference ? { pspReference: payout.pspReference } : {}),
        payoutReference: payout.payoutReference,
        payoutReversalReference: reversal.reversalReference,
      },
    });
  }
  for (const dispute of state.disputes.values()) {
    const paymentId = state.payments.get(dispute.pspReference)?.paymentId;
    const ids = {
      ...(paymentId ? { paymentId } : {}),
      pspReference: dispute.pspReference,
      disputeReference: dispute.disputeReference,
    };
    const row = (amount: bigint, fee: bigint, settledAt: Date): SettledRow => ({
      row: {
        reference: dispute.disputeReference,
        type: "dispute",
        amount,
        fee,
        net: amount - fee,
        currency: dispute.currency,
        settledAt,
      },
      ids,
    });
    // The amount and the dispute fee leave at opening; a win gives the amount (and any returned fee) back.
    if (within(dispute.createdAt))
      rows.push(row(-dispute.withdrawn.amount, dispute.withdrawn.fee, dispute.createdAt));
    if (dispute.reinstated && within(dispute.reinstated.at)) {
      rows.push(row(dispute.reinstated.amount, -dispute.reinstated.feeReturned, dispute.reinstated.at));
    }
  }
  return rows.sort(
    ({ row: a }, { row: b }) =>
      a.settledAt.getTime() - b.settledAt.getTime() ||
      (a.reference < b.reference ? -1 : a.reference > b.reference ? 1 : 0),
  );
}

/**
 * `readSettlement` for the sandbox: the settlement file's rows in `[from, to)` as records, oldest
 * first (`recordId` is the row's reference). The sandbox makes no payouts to the platform's bank,
 * so a query by bank payout finds nothing.
 */
export async function* settlementRecords(
  state: SandboxState,
  query: SettlementQuery,
): AsyncGenerator<SettlementRecord> {
  if ("bankPayoutReference" in query) return;
  for (const { row, ids } of rowsBetween(state, query.from.getTime(), query.to.getTime())) {
    yield {
      recordId: row.type === "dispute" ? disputeRecordId(row.reference, row.amount) : row.reference,
      type: row.type,
      amount: row.amount,
      fee: row.fee,
      net: row.net,
      currency: row.currency,
      createdAt: row.settledAt,
      ...ids,
    };
  }
}

/**
 * The settlement file of one UTC day: {@link SETTLEMENT_CSV_HEADER}, then one line per row.
 * Payouts to sellers are negative `payout` rows; a payout's money coming back (a reversal,
 * or a payout the seller's bank returned) is a positive `payout` row of its own. A dispute is a
 * negative `dispute` row when it is opened (the amount, with the dispute fee as `fee`) and, when
 * won, a positive one (the amount back, a returned fee as a negative `fee`), both under its reference.
 * `reverses` names the payout a reversal or a return gives money back for, or the refund a bounce
 * (a positive `refund` row) returns the money of (empty on other rows). Amounts are integers in minor units (`12345` is USD 123.45), so no decimal parsing is needed
 * and no currency exponent can be misread; `settled_at` is ISO 8601 UTC with milliseconds.
 * Lines end with `\n`, the last one too. No field ever needs CSV quoting.
 */
export function settlementCsv(state: SandboxState, date: string): string {
  const lines = settlementRows(state, date).map((row) =>
    [
      row.reference,
      row.type,
      row.amount,
      row.fee,
      row.net,
      row.currency,
      row.settledAt.toISOString(),
      row.reverses ?? "",
    ].join(","),
  );
  return `${[SETTLEMENT_CSV_HEADER, ...lines].join("\n")}\n`;
}
