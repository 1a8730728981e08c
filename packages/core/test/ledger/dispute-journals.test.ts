import { describe, expect, it } from "vitest";
import type { DisputeMoney } from "../../src/ledger/dispute-journals.js";
import {
  disputeClosedJournal,
  disputeReinstatedJournal,
  disputeWithdrawnJournal,
  unownedDisputeClosedJournal,
} from "../../src/ledger/dispute-journals.js";
import { validateJournal } from "../../src/ledger/journal-rules.js";
import type { JournalInput } from "../../src/ledger/types.js";

const dispute = (overrides: Partial<DisputeMoney> = {}): DisputeMoney => ({
  id: "dp_1",
  paymentId: "pay_1",
  pspId: "stripe",
  currency: "USD",
  allocations: [
    { paymentOrderId: "po_1", sellerId: "S1", amount: 10_000n, fee: 1_215n },
    { paymentOrderId: "po_2", sellerId: "S2", amount: 2_345n, fee: 285n },
  ],
  amountWithdrawn: 12_345n,
  fee: 1_500n,
  amountReinstated: 0n,
  feeReturned: 0n,
  feeBearer: "seller",
  ...overrides,
});

/** Net per account (debit +, credit −). */
const net = (...journals: JournalInput[]) => {
  const out: Record<string, bigint> = {};
  for (const j of journals) {
    validateJournal(j);
    for (const p of j.postings) {
      out[p.account] = (out[p.account] ?? 0n) + (p.direction === "debit" ? p.amount : -p.amount);
    }
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== 0n));
};

describe("dispute journals", () => {
  it("withdrawn: the PSP took amount and fee; each seller's share moves from available to held", () => {
    const withdrawn = disputeWithdrawnJournal(dispute());
    expect(withdrawn.reference).toBe("dispute:dp_1:withdrawn");
    expect(net(withdrawn)).toEqual({
      "psp:stripe:receivable": -13_845n,
      "psp:stripe:disputes": 13_845n,
      "seller:S1:available": 11_215n,
      "seller:S1:held": -11_215n,
      "seller:S2:available": 2_630n,
      "seller:S2:held": -2_630n,
    });
  });

  it("lost: the held share is written off, the receivable is what the PSP kept", () => {
    const d = dispute();
    expect(net(disputeWithdrawnJournal(d), disputeClosedJournal(d, "lost")!)).toEqual({
      "psp:stripe:receivable": -13_845n,
      "seller:S1:available": 11_215n,
      "seller:S2:available": 2_630n,
    });
  });

  it("won with the amount back but not the fee: the seller bears only the fee", () => {
    const d = dispute({ amountReinstated: 12_345n });
    const journals = [
      disputeWithdrawnJournal(d),
      disputeReinstatedJournal(d),
      disputeClosedJournal(d, "won")!,
    ];
    expect(journals.map((j) => j.reference)).toEqual([
      "dispute:dp_1:withdrawn",
      "dispute:dp_1:reinstated",
      "dispute:dp_1:won",
    ]);
    expect(net(...journals)).toEqual({
      "psp:stripe:receivable": -1_500n,
      "seller:S1:available": 1_215n,
      "seller:S2:available": 285n,
    });
  });

  it("won with everything back: nothing left to write off, the ledger is as before", () => {
    const d = dispute({ amountReinstated: 12_345n, feeReturned: 1_500n });
    expect(disputeClosedJournal(d, "won")).toBeNull();
    expect(net(disputeWithdrawnJournal(d), disputeReinstatedJournal(d))).toEqual({});
  });

  it("a fee the platform bears is its expense, returned to it on a win", () => {
    const d = dispute({ feeBearer: "platform", amountReinstated: 12_345n, feeReturned: 1_000n });
    expect(net(disputeWithdrawnJournal(d))).toMatchObject({
      "platform:dispute_fees": 1_500n,
      "seller:S1:available": 10_000n,
      "seller:S2:available": 2_345n,
    });
    expect(net(disputeWithdrawnJournal(d), disputeReinstatedJournal(d))).toEqual({
      "psp:stripe:receivable": -500n,
      "platform:dispute_fees": 500n,
    });
    expect(disputeClosedJournal(d, "won")).toBeNull();
  });
});

describe("disputes of a capture no payment order owns", () => {
  const unowned = (overrides: Partial<DisputeMoney> = {}) =>
    dispute({ allocations: [], feeBearer: "platform", ...overrides });

  it.each([
    [
      "lost while owed to the buyer: the chargeback settles the debt; the platform bears the fee",
      12_345n,
      "platform:captures_to_return",
    ],
    [
      "lost after the automatic refund: the buyer got the money twice, the platform's loss",
      0n,
      "platform:dispute_losses",
    ],
  ] as const)("%s", (_name, owed, account) => {
    const d = unowned();
    const closing = unownedDisputeClosedJournal(d, "lost", owed)!;
    validateJournal(closing);
    expect(net(disputeWithdrawnJournal(d), closing)).toEqual({
      "psp:stripe:receivable": -13_845n,
      "platform:dispute_fees": 1_500n,
      [account]: 12_345n,
    });
  });

  it("won in full: nothing left held, no closing journal", () => {
    expect(unownedDisputeClosedJournal(unowned({ amountReinstated: 12_345n }), "won", 12_345n)).toBeNull();
  });
});
