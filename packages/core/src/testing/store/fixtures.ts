import type { JournalInput } from "../../ledger/types.js";

export const T0 = new Date("2026-03-01T12:00:00.000Z");
export const at = (ms: number): Date => new Date(T0.getTime() + ms);

/** A two-posting journal moving `amount` from `from` (credit) to `to` (debit). */
export function transfer(
  reference: string,
  from: string,
  to: string,
  amount: bigint,
  currency = "USD",
): JournalInput {
  return {
    reference,
    kind: "transfer",
    postings: [
      { account: to, currency, direction: "debit", amount },
      { account: from, currency, direction: "credit", amount },
    ],
  };
}

/** The journal the design posts when a two-seller payment is paid. */
export function paymentSucceeded(reference: string, currency = "USD"): JournalInput {
  return {
    reference,
    kind: "payment_succeeded",
    metadata: { paymentId: reference },
    postings: [
      { account: "psp:sandbox:receivable", currency, direction: "debit", amount: 12_345n },
      { account: "seller:S1:pending", currency, direction: "credit", amount: 10_000n },
      { account: "seller:S2:pending", currency, direction: "credit", amount: 2_345n },
    ],
  };
}
