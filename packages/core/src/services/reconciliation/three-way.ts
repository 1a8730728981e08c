import type { ReconciliationItem } from "../../domain/reconciliation.js";
import type { SettlementRecord } from "../../ports/psp.js";
import type { BankStatementLine } from "./sources.js";

type Item = Omit<ReconciliationItem, "runId" | "seq">;

/**
 * The three-way match of the PSP's payouts to the platform's bank (`bank_payout` records):
 * - each must equal, negated, the sum of the nets of the records that name it
 *   (`bankPayoutReference`), when the PSP says which records those are (leg `payout_sum`);
 * - each must appear on the bank statement, when one is given (leg `psp_bank`): the line with
 *   the payout's reference, else an unused line with the same amount and currency dated within
 *   `windowMs` of the payout's arrival (`availableAt`, else its creation). A line found by
 *   reference with another amount is a short (or long) payout; no line at all is
 *   `missing_at_bank`.
 * Bank lines that no payout explains are not reported: a statement holds other money too.
 */
export function matchBankPayouts(
  payouts: readonly { record: SettlementRecord; line: number | undefined }[],
  settledInto: ReadonlyMap<string, { currency: string; net: bigint; count: number }>,
  lines: readonly BankStatementLine[] | undefined,
  options: { windowMs: number },
): Item[] {
  const items: Item[] = [];
  const used = new Set<number>();
  for (const { record, line } of payouts) {
    const received = -record.net;
    const base = {
      line,
      recordId: record.recordId,
      recordType: record.type,
      reference: record.recordId,
      bankPayoutReference: record.recordId,
      currency: record.currency,
      amount: record.amount,
      fee: record.fee,
      occurredAt: record.createdAt,
    };
    const settled = settledInto.get(record.recordId);
    if (settled) {
      const ok = settled.currency === record.currency && settled.net === received;
      items.push({
        ...base,
        leg: "payout_sum",
        class: ok
          ? "matched"
          : settled.currency !== record.currency
            ? "currency_mismatch"
            : "amount_mismatch",
        expectedAmount: -settled.net,
        expectedCurrency: settled.currency,
        message: ok
          ? `bank payout ${record.recordId} is the sum of the ${settled.count} records it settled`
          : `bank payout ${record.recordId} pays ${received} ${record.currency}, the ${settled.count} records it settled sum to ${settled.net} ${settled.currency}`,
      });
    }
    if (!lines) continue;
    const arrival = (record.availableAt ?? record.createdAt).getTime();
    let index = lines.findIndex((l, i) => !used.has(i) && l.reference === record.recordId);
    if (index < 0) {
      index = lines.findIndex(
        (l, i) =>
          !used.has(i) &&
          l.amount === received &&
          l.currency === record.currency &&
          Math.abs(l.date.getTime() - arrival) <= options.windowMs,
      );
    }
    const bank = index >= 0 ? lines[index] : undefined;
    if (!bank) {
      items.push({
        ...base,
        leg: "psp_bank",
        class: "missing_at_bank",
        expectedAmount: received,
        message: `bank payout ${record.recordId} of ${received} ${record.currency} is not on the bank statement`,
      });
      continue;
    }
    used.add(index);
    const cls =
      bank.currency !== record.currency
        ? "currency_mismatch"
        : bank.amount !== received
          ? "amount_mismatch"
          : Math.abs(bank.date.getTime() - arrival) > options.windowMs
            ? "status_mismatch"
            : "matched";
    items.push({
      ...base,
      leg: "psp_bank",
      class: cls,
      expectedAmount: bank.amount,
      expectedCurrency: bank.currency,
      message:
        cls === "matched"
          ? `bank payout ${record.recordId} is on the bank statement (line ${bank.line})`
          : cls === "status_mismatch"
            ? `bank payout ${record.recordId} reached the bank on ${bank.date.toISOString().slice(0, 10)}, outside the date window (line ${bank.line})`
            : `the bank received ${bank.amount} ${bank.currency} for bank payout ${record.recordId} of ${received} ${record.currency} (line ${bank.line})`,
    });
  }
  return items;
}
