import { describe, expect, it } from "vitest";
import type { PaymentAttempt } from "../../src/domain/payment-attempt.js";
import type { Refund } from "../../src/domain/refund.js";
import type { SettlementRecord } from "../../src/ports/psp.js";
import type { LedgerLookup, MatchRules } from "../../src/services/reconciliation/classify.js";
import { classifyRecord, classifyUnsettledJournal } from "../../src/services/reconciliation/classify.js";
import { refundFixture } from "../../src/testing/store/payments-suite.js";

const T = new Date("2026-03-01T12:00:00.000Z");
const HOUR = 3_600_000;
const rules = (lagMs: number, now = new Date(T.getTime() + 2 * HOUR)): MatchRules => ({
  now,
  settlementLagMs: lagMs,
});

const attempt = (over: Partial<PaymentAttempt> = {}): PaymentAttempt => ({
  paymentId: "pay_1",
  attempt: 1,
  pspId: "sandbox",
  pspReference: "ref_1",
  amount: 12_345n,
  currency: "USD",
  status: "succeeded",
  capturedAmount: 12_345n,
  capturedCurrency: "USD",
  unownedReason: "superseded",
  captureRefundStatus: "succeeded",
  captureRefundReference: "re_1",
  version: 1,
  createdAt: T,
  updatedAt: T,
  ...over,
});

const lookup = (a: PaymentAttempt): LedgerLookup => ({
  paymentsById: new Map(),
  paymentsByReference: new Map(),
  refundsByReference: new Map(),
  payoutsByReference: new Map(),
  attemptsByReference: new Map([[a.pspReference, a]]),
  attemptsByRefundReference: a.captureRefundReference ? new Map([[a.captureRefundReference, a]]) : new Map(),
  bouncedCaptureRefunds: new Set(),
  disputesByReference: new Map(),
});

const charge = (over: Partial<SettlementRecord> = {}): SettlementRecord => ({
  recordId: "ref_1",
  type: "charge",
  amount: 12_345n,
  fee: 300n,
  net: 12_045n,
  currency: "USD",
  createdAt: T,
  pspReference: "ref_1",
  ...over,
});

const refund = (over: Partial<SettlementRecord> = {}): SettlementRecord => ({
  recordId: "re_1",
  type: "refund",
  amount: -12_345n,
  fee: 0n,
  net: -12_345n,
  currency: "USD",
  createdAt: T,
  pspReference: "ref_1",
  refundReference: "re_1",
  ...over,
});

describe("classifying the records of attempts that are not their payment's current one", () => {
  it("an unowned capture matches its journal and claims it; another amount is an amount_mismatch", () => {
    const a = attempt();
    expect(classifyRecord(charge(), 2, lookup(a), rules(HOUR))).toMatchObject({
      class: "matched",
      journalReference: "unowned-capture:sandbox:ref_1",
      claims: ["unowned-capture:sandbox:ref_1"],
      paymentId: "pay_1",
    });
    expect(
      classifyRecord(charge({ amount: 12_000n, net: 11_700n }), 2, lookup(a), rules(HOUR)),
    ).toMatchObject({ class: "amount_mismatch", expectedAmount: 12_345n });
  });

  it("an unowned capture on the payment's current page (captured after it expired here) matches its journal, not the payment", () => {
    const a = attempt();
    const expired = {
      id: "pay_1",
      pspReference: "ref_1",
      status: "expired",
      amount: 12_345n,
      currency: "USD",
    };
    const l = { ...lookup(a), paymentsByReference: new Map([["ref_1", expired as never]]) };
    expect(classifyRecord(charge(), 2, l, rules(HOUR))).toMatchObject({
      class: "matched",
      journalReference: "unowned-capture:sandbox:ref_1",
    });
    // The same page's attempt without an unowned capture: the payment decides (status_mismatch).
    const own = attempt({ unownedReason: undefined, captureRefundStatus: undefined });
    expect(
      classifyRecord(charge(), 2, { ...l, attemptsByReference: new Map([["ref_1", own]]) }, rules(HOUR))
        .class,
    ).toBe("status_mismatch");
  });

  it("an unowned capture in another currency than its attempt's is missing_in_ledger: nothing was booked", () => {
    const a = attempt({
      capturedCurrency: "EUR",
      captureRefundStatus: undefined,
      captureRefundReference: undefined,
    });
    expect(classifyRecord(charge({ currency: "EUR" }), 2, lookup(a), rules(HOUR))).toMatchObject({
      class: "missing_in_ledger",
      claims: [],
      message: expect.stringContaining("correcting journal"),
    });
  });

  it("a capture settlekit has not recorded is pending inside the lag, missing_in_ledger after it", () => {
    const a = attempt({
      unownedReason: undefined,
      captureRefundStatus: undefined,
      captureRefundReference: undefined,
    });
    expect(classifyRecord(charge(), 2, lookup(a), rules(3 * HOUR)).class).toBe("pending");
    expect(classifyRecord(charge(), 2, lookup(a), rules(HOUR))).toMatchObject({
      class: "missing_in_ledger",
      message: expect.stringContaining("attempt 1 of payment pay_1"),
    });
  });

  it("the automatic refund: matched once succeeded, pending then missing while pending, a pair when it failed unbooked, its bounce once bounced", () => {
    expect(classifyRecord(refund(), 3, lookup(attempt()), rules(HOUR))).toMatchObject({
      class: "matched",
      journalReference: "unowned-capture:sandbox:ref_1:refund",
      claims: ["unowned-capture:sandbox:ref_1:refund"],
      expectedAmount: -12_345n,
    });
    const pending = attempt({ captureRefundStatus: "pending" });
    expect(classifyRecord(refund(), 3, lookup(pending), rules(3 * HOUR)).class).toBe("pending");
    expect(classifyRecord(refund(), 3, lookup(pending), rules(HOUR)).class).toBe("missing_in_ledger");
    // Failed before settlekit booked it: the PSP's refund and its money back net to zero, as a pair.
    const failed = lookup(attempt({ captureRefundStatus: "failed" }));
    expect(classifyRecord(refund(), 3, failed, rules(HOUR))).toMatchObject({
      class: "matched",
      claims: [],
      message: expect.stringContaining("failed before settlekit booked it"),
      pair: { side: "out", partner: "pair:back:re_1:USD:12345", unpaired: { class: "status_mismatch" } },
    });
    const back = refund({ recordId: "rfb_1", amount: 12_345n, net: 12_345n });
    expect(classifyRecord(back, 4, failed, rules(HOUR))).toMatchObject({
      class: "matched",
      claims: [],
      pair: { side: "back", partner: "pair:out:re_1:USD:12345", unpaired: { class: "missing_in_ledger" } },
    });
    // Bounced after succeeding: the refund matches its journal, the money back the bounce's.
    const bounced = { ...failed, bouncedCaptureRefunds: new Set(["re_1"]) };
    expect(classifyRecord(refund(), 3, bounced, rules(HOUR)).claims).toEqual([
      "unowned-capture:sandbox:ref_1:refund",
    ]);
    expect(classifyRecord(back, 4, bounced, rules(HOUR))).toMatchObject({
      class: "matched",
      claims: ["unowned-capture:sandbox:ref_1:refund-bounced"],
    });
    // Money back for a refund settlekit still has succeeded: its failure's webhook is on its way.
    expect(classifyRecord(back, 4, lookup(attempt()), rules(3 * HOUR)).class).toBe("pending");
    expect(classifyRecord(back, 4, lookup(attempt()), rules(HOUR)).class).toBe("status_mismatch");
  });
});

describe("classifying the period's journals no record settled", () => {
  const journal = (kind: string, amount: bigint) => ({
    journalReference: `${kind}:x`,
    kind,
    createdAt: T,
    currency: "USD",
    amount,
    metadata: { paymentId: "pay_1" },
    cursor: "1",
  });

  it("pending inside the lag; after it a refund is a status_mismatch and anything else missing_at_psp", () => {
    expect(classifyUnsettledJournal(journal("refund", -1_000n), rules(3 * HOUR)).class).toBe("pending");
    expect(classifyUnsettledJournal(journal("refund", -1_000n), rules(HOUR))).toMatchObject({
      class: "status_mismatch",
      expectedAmount: -1_000n,
      paymentId: "pay_1",
      message: expect.stringContaining("still charged"),
    });
    expect(classifyUnsettledJournal(journal("unowned_capture_refund", -1_000n), rules(HOUR)).class).toBe(
      "status_mismatch",
    );
    for (const kind of ["payment_succeeded", "payout_paid", "unowned_capture"]) {
      expect(classifyUnsettledJournal(journal(kind, 1_000n), rules(HOUR)).class).toBe("missing_at_psp");
    }
  });
});

describe("classifying a refund that bounced", () => {
  const made = (id: string, over: Partial<Refund> = {}): Refund =>
    refundFixture(id, { status: "succeeded", pspRefundReference: "re_9", ...over });
  const reversed = { status: "failed" as const, failureReason: "failed_after_success:bank" };
  const refunds = (...rs: Refund[]): LedgerLookup => ({
    ...lookup(attempt()),
    attemptsByRefundReference: new Map(),
    refundsByReference: new Map([["re_9", rs]]),
  });
  const out = (amount: bigint) =>
    ({
      recordId: "re_9",
      type: "refund",
      amount,
      fee: 0n,
      net: amount,
      currency: "USD",
      createdAt: T,
      refundReference: "re_9",
    }) as SettlementRecord;
  const back = (amount: bigint) => ({ ...out(amount), recordId: "rfb_9" });

  it("matches the refund against refund:<id> and its money back against refund-reversal:<id>, split refunds all of theirs", () => {
    const split = refunds(
      made("rf_1", { amount: 300n, ...reversed }),
      made("rf_2", { amount: 200n, ...reversed }),
    );
    expect(classifyRecord(out(-500n), 1, split, rules(HOUR))).toMatchObject({
      class: "matched",
      journalReference: "refund:rf_1",
      claims: ["refund:rf_1", "refund:rf_2"],
    });
    expect(classifyRecord(back(500n), 2, split, rules(HOUR))).toMatchObject({
      class: "matched",
      journalReference: "refund-reversal:rf_1",
      claims: ["refund-reversal:rf_1", "refund-reversal:rf_2"],
      expectedAmount: 500n,
    });
    expect(classifyRecord(back(400n), 2, split, rules(HOUR)).class).toBe("amount_mismatch");
  });

  it("money back for a refund settlekit still has succeeded: pending inside the lag, then status_mismatch", () => {
    const kept = refunds(made("rf_1"));
    expect(classifyRecord(back(500n), 2, kept, rules(3 * HOUR)).class).toBe("pending");
    expect(classifyRecord(back(500n), 2, kept, rules(HOUR))).toMatchObject({
      class: "status_mismatch",
      claims: [],
      message: expect.stringContaining("bounced, settlekit has it succeeded"),
    });
  });

  it("a refund that failed before settlekit booked it: out and back are the halves of one pair, matched only together", () => {
    const failed = refunds(made("rf_1", { status: "failed", failureReason: "psp_failed" }));
    expect(classifyRecord(out(-500n), 1, failed, rules(HOUR))).toMatchObject({
      class: "matched",
      claims: [],
      pair: {
        side: "out",
        key: "pair:out:re_9:USD:500",
        partner: "pair:back:re_9:USD:500",
        unpaired: { class: "status_mismatch" },
      },
    });
    expect(classifyRecord(out(-500n), 1, failed, rules(HOUR)).pair?.unpaired.message).toContain(
      "settlekit has the refund failed, the PSP says it refunded",
    );
    expect(classifyRecord(back(500n), 2, failed, rules(HOUR))).toMatchObject({
      class: "matched",
      claims: [],
      pair: {
        side: "back",
        key: "pair:back:re_9:USD:500",
        partner: "pair:out:re_9:USD:500",
        unpaired: { class: "missing_in_ledger" },
      },
    });
    // Booked refunds (made, or bounced with a reversal journal) match their journals, not as pairs.
    const split = refunds(
      made("rf_1", { amount: 500n, status: "failed", failureReason: "failed_after_success:bank" }),
    );
    expect(classifyRecord(out(-500n), 1, split, rules(HOUR)).pair).toBeUndefined();
    expect(classifyRecord(back(500n), 2, split, rules(HOUR)).pair).toBeUndefined();
  });

  it("a dashboard refund booked only in part that failed before settlekit booked it: a pair of the PSP's amount (seed 459)", () => {
    // 500 at the PSP; settlekit could record 300 + 100 of it (the rest flagged to an operator).
    const failed = { status: "failed" as const, failureReason: "psp_failed", origin: "external" as const };
    const part = refunds(
      made("rf_1", { amount: 300n, ...failed }),
      made("rf_2", { amount: 100n, ...failed }),
    );
    expect(classifyRecord(out(-500n), 1, part, rules(HOUR))).toMatchObject({
      class: "matched",
      claims: [],
      pair: { side: "out", key: "pair:out:re_9:USD:500", partner: "pair:back:re_9:USD:500" },
    });
    expect(classifyRecord(back(500n), 2, part, rules(HOUR))).toMatchObject({
      class: "matched",
      claims: [],
      pair: { side: "back", key: "pair:back:re_9:USD:500", partner: "pair:out:re_9:USD:500" },
    });
    // Settlekit's own refund is for what it asked: another amount at the PSP is a mismatch still.
    const own = refunds(made("rf_1", { amount: 400n, status: "failed", failureReason: "psp_failed" }));
    expect(classifyRecord(out(-500n), 1, own, rules(HOUR)).class).toBe("amount_mismatch");
    expect(classifyRecord(back(500n), 2, own, rules(HOUR)).class).toBe("amount_mismatch");
  });

  it("a dashboard refund booked in part that bounced: out and back matched against its journals as a pair of the PSP's amount (seed 578)", () => {
    // 500 at the PSP; settlekit booked 300 + 100 of it (the rest flagged), then reversed both.
    const external = { ...reversed, origin: "external" as const };
    const part = refunds(
      made("rf_1", { amount: 300n, ...external }),
      made("rf_2", { amount: 100n, ...external }),
    );
    expect(classifyRecord(out(-500n), 1, part, rules(HOUR))).toMatchObject({
      class: "matched",
      claims: ["refund:rf_1", "refund:rf_2"],
      pair: { side: "out", key: "pair:out:re_9:USD:500", unpaired: { class: "amount_mismatch" } },
    });
    expect(classifyRecord(back(500n), 2, part, rules(HOUR))).toMatchObject({
      class: "matched",
      claims: ["refund-reversal:rf_1", "refund-reversal:rf_2"],
      pair: { side: "back", key: "pair:back:re_9:USD:500", unpaired: { class: "amount_mismatch" } },
    });
    // Not bounced (still booked in part): the flagged difference stays a mismatch, no pair.
    const kept = refunds(made("rf_1", { amount: 300n, origin: "external" }));
    expect(classifyRecord(out(-500n), 1, kept, rules(HOUR))).toMatchObject({ class: "amount_mismatch" });
    expect(classifyRecord(out(-500n), 1, kept, rules(HOUR)).pair).toBeUndefined();
    // Settlekit's own refund, bounced: its amount is what it asked, a pair does not excuse another.
    const own = refunds(made("rf_1", { amount: 400n, ...reversed }));
    expect(classifyRecord(out(-500n), 1, own, rules(HOUR)).class).toBe("amount_mismatch");
    expect(classifyRecord(back(500n), 2, own, rules(HOUR)).class).toBe("amount_mismatch");
  });

  it("a refund settlekit has no row for: its records are pair halves, missing_in_ledger unpaired", () => {
    const none: LedgerLookup = {
      ...lookup(attempt()),
      attemptsByRefundReference: new Map(),
      refundsByReference: new Map(),
    };
    for (const [record, side] of [
      [out(-500n), "out"],
      [back(500n), "back"],
    ] as const) {
      expect(classifyRecord(record, 1, none, rules(HOUR))).toMatchObject({
        class: "matched",
        pair: { side, unpaired: { class: "missing_in_ledger" } },
      });
    }
  });
});
