import { SettlekitError } from "@settlekit/core";
import type { SandboxState } from "./records.js";

/** The settlement file's header line. */
export const SETTLEMENT_CSV_HEADER = "reference,type,amount,fee,net,currency,settled_at";

/** One line of the settlement file, before formatting. */
export interface SettlementRow {
  /** The payment's `sbx_pay_…` for a charge, the refund's `sbx_re_…` for a refund. */
  readonly reference: string;
  readonly type: "charge" | "refund";
  /** Minor units; negative for refunds (money going back out). */
  readonly amount: bigint;
  /** Minor units the sandbox keeps; 0 for refunds (fees are not returned, as at Stripe). */
  readonly fee: bigint;
  /** `amount − fee`: what reaches (or leaves) the host's bank account. */
  readonly net: bigint;
  readonly currency: string;
  readonly settledAt: Date;
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
  const within = (at: Date | undefined): at is Date =>
    at !== undefined && at.getTime() >= start && at.getTime() < end;
  const rows: SettlementRow[] = [];
  for (const payment of state.payments.values()) {
    if (!within(payment.succeededAt)) continue;
    const fee = payment.fee ?? 0n;
    rows.push({
      reference: payment.pspReference,
      type: "charge",
      amount: payment.amount,
      fee,
      net: payment.amount - fee,
      currency: payment.currency,
      settledAt: payment.succeededAt,
    });
  }
  for (const refund of state.refunds.values()) {
    if (refund.status !== "succeeded" || !within(refund.createdAt)) continue;
    const amount = -refund.amount;
    rows.push({
      reference: refund.refundReference,
      type: "refund",
      amount,
      fee: 0n,
      net: amount,
      currency: refund.currency,
      settledAt: refund.createdAt,
    });
  }
  return rows.sort(
    (a, b) =>
      a.settledAt.getTime() - b.settledAt.getTime() ||
      (a.reference < b.reference ? -1 : a.reference > b.reference ? 1 : 0),
  );
}

/**
 * The settlement file of one UTC day: {@link SETTLEMENT_CSV_HEADER}, then one line per row.
 * Amounts are integers in minor units (`12345` is USD 123.45), so no decimal parsing is needed
 * and no currency exponent can be misread; `settled_at` is ISO 8601 UTC with milliseconds.
 * Lines end with `\n`, the last one too. No field ever needs CSV quoting.
 */
export function settlementCsv(state: SandboxState, date: string): string {
  const lines = settlementRows(state, date).map((row) =>
    [row.reference, row.type, row.amount, row.fee, row.net, row.currency, row.settledAt.toISOString()].join(
      ",",
    ),
  );
  return `${[SETTLEMENT_CSV_HEADER, ...lines].join("\n")}\n`;
}
