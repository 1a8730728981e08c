import { Readable } from "node:stream";
import type { PayoutInput, SettlementRecord } from "@settlekit/core";
import { sandboxCsvSource } from "@settlekit/core";
import { describe, expect, it } from "vitest";
import { SETTLEMENT_CSV_HEADER } from "../src/index.js";
import { registrationInput, testSandbox } from "./support/sandbox-harness.js";

const MINUTE = 60_000;

/** A paid payment and a payout of its first order (USD 100.00) to S1. */
async function paidPayout(sandbox: ReturnType<typeof testSandbox>["sandbox"], n: number) {
  const { pspReference } = await sandbox.createHostedPayment(registrationInput({ paymentId: `pay_po_${n}` }));
  await sandbox.pay(pspReference);
  const input: PayoutInput = {
    payoutId: `po_${n}`,
    sellerId: "S1",
    amount: 10_000n,
    currency: "USD",
    paymentId: `pay_po_${n}`,
    pspReference,
    idempotencyKey: `pok_${n}`,
  };
  return { input, result: await sandbox.payout(input) };
}

// The sandbox's own side of payouts: its settlement file, its webhook bodies and its fault
// controls. What every provider must do is in the conformance suite (conformance.test.ts).
describe("sandbox payouts", () => {
  it("lists a payout, its reversals and a returned payout in the settlement file, money back as positive payout rows", async () => {
    const { sandbox, clock } = testSandbox(); // 2026-03-01T12:00:00Z
    const reversed = await paidPayout(sandbox, 1);
    clock.advance(MINUTE);
    const reversal = await sandbox.reversePayout({
      payoutReference: reversed.result.payoutReference,
      payoutId: "po_1",
      amount: 2_500n,
      currency: "USD",
      idempotencyKey: "rv_1",
    });
    clock.advance(MINUTE);
    const returned = await paidPayout(sandbox, 2);
    clock.advance(MINUTE);
    sandbox.faults.failPayoutAfterPaid(returned.result.payoutReference);
    const payoutLines = sandbox
      .settlementCsv("2026-03-01")
      .trim()
      .split("\n")
      .filter((line) => line.split(",")[1] === "payout");
    const [back] = sandbox.payouts().filter((p) => p.status === "failed");
    expect(payoutLines).toEqual([
      `${reversed.result.payoutReference},payout,-10000,0,-10000,USD,2026-03-01T12:00:00.000Z,`,
      `${reversal.reversalReference},payout,2500,0,2500,USD,2026-03-01T12:01:00.000Z,${reversed.result.payoutReference}`,
      `${returned.result.payoutReference},payout,-10000,0,-10000,USD,2026-03-01T12:02:00.000Z,`,
      `${back?.returnReference},payout,10000,0,10000,USD,2026-03-01T12:03:00.000Z,${returned.result.payoutReference}`,
    ]);
    expect(reversal.reversalReference).toMatch(/^sbx_prv_[0-9a-f]{24}$/);
    expect(back?.returnReference).toMatch(/^sbx_por_[0-9a-f]{24}$/);
    const records = [];
    for await (const record of sandbox.readSettlement({
      from: new Date("2026-03-01T00:00:00Z"),
      to: new Date("2026-03-02T00:00:00Z"),
    })) {
      if (record.type === "payout") records.push(record);
    }
    expect(records.map((r) => [r.recordId, r.amount, r.payoutReference, r.payoutReversalReference])).toEqual([
      [reversed.result.payoutReference, -10_000n, reversed.result.payoutReference, undefined],
      [reversal.reversalReference, 2_500n, reversed.result.payoutReference, reversal.reversalReference],
      [returned.result.payoutReference, -10_000n, returned.result.payoutReference, undefined],
      [back?.returnReference, 10_000n, returned.result.payoutReference, back?.returnReference],
    ]);
    expect(records.every((r) => r.paymentId?.startsWith("pay_po_"))).toBe(true);
    expect(sandbox.settlementCsv("2026-03-01").startsWith(`${SETTLEMENT_CSV_HEADER}\n`)).toBe(true);
  });

  it("names in the file the payout a reversal or a return gives money back for: core reads the ids readSettlement gives", async () => {
    const { sandbox, clock } = testSandbox();
    const reversed = await paidPayout(sandbox, 4);
    clock.advance(MINUTE);
    await sandbox.reversePayout({
      payoutReference: reversed.result.payoutReference,
      payoutId: "po_4",
      amount: 2_500n,
      currency: "USD",
      idempotencyKey: "rv_4",
    });
    const returned = await paidPayout(sandbox, 5);
    clock.advance(MINUTE);
    sandbox.faults.failPayoutAfterPaid(returned.result.payoutReference);
    const ids = (r: SettlementRecord) =>
      [r.recordId, r.type, r.amount, r.payoutReference, r.payoutReversalReference].join(" ");
    const own: string[] = [];
    for await (const record of sandbox.readSettlement({
      from: new Date("2026-03-01T00:00:00Z"),
      to: new Date("2026-03-02T00:00:00Z"),
    })) {
      if (record.type === "payout") own.push(ids(record));
    }
    const file: string[] = [];
    for await (const entry of sandboxCsvSource(Readable.from([sandbox.settlementCsv("2026-03-01")]))) {
      expect(entry.kind).toBe("record");
      if (entry.kind === "record" && entry.record.type === "payout") file.push(ids(entry.record));
    }
    expect(own).toHaveLength(4);
    expect(file).toEqual(own);
  });

  it("sends payout.failed and payout.reversed with the payout's snapshot, signed like every event", async () => {
    const { sandbox } = testSandbox();
    const { result } = await paidPayout(sandbox, 3);
    sandbox.faults.failPayoutAfterPaid(result.payoutReference, { failureReason: "no_account" });
    const { result: other } = await paidPayout(sandbox, 4);
    await sandbox.reversePayout({
      payoutReference: other.payoutReference,
      payoutId: "po_4",
      amount: 10_000n,
      currency: "USD",
      idempotencyKey: "rv_4",
    });
    const events = sandbox.events().filter((e) => e.type.startsWith("payout."));
    expect(events.map((e) => [e.type, JSON.parse(e.rawBody).data])).toEqual([
      [
        "payout.failed",
        {
          payout: {
            reference: result.payoutReference,
            payout_id: "po_3",
            seller_id: "S1",
            amount: "10000",
            amount_reversed: "0",
            currency: "USD",
            status: "failed",
            failure_reason: "no_account",
          },
        },
      ],
      [
        "payout.reversed",
        {
          payout: expect.objectContaining({
            reference: other.payoutReference,
            status: "reversed",
            amount_reversed: "10000",
          }),
        },
      ],
    ]);
    const parsed = await sandbox.parseWebhook({ rawBody: events[0]!.rawBody, headers: events[0]!.headers });
    expect(parsed).toEqual([
      expect.objectContaining({
        kind: "payout",
        status: "failed",
        failureReason: "no_account",
        amount: 10_000n,
      }),
    ]);
    expect(parsed[0]).not.toHaveProperty("amountReversed");
  });

  it("refuses to fail a payout that is not paid, and fault arguments it cannot use", async () => {
    const { sandbox } = testSandbox();
    const { result } = await paidPayout(sandbox, 5);
    sandbox.faults.failPayoutAfterPaid(result.payoutReference);
    expect(() => sandbox.faults.failPayoutAfterPaid(result.payoutReference)).toThrow(RangeError);
    expect(() => sandbox.faults.failPayoutAfterPaid("sbx_po_unknown")).toThrow(RangeError);
    expect(() => sandbox.faults.failNextPayouts(1, "boom" as never)).toThrow(RangeError);
    expect(() => sandbox.faults.failNextPayouts(-1, "503")).toThrow(RangeError);
    expect(() => sandbox.faults.failNextPayouts(1, "refused", { failureReason: "Account Closed" })).toThrow(
      RangeError,
    );
    await expect(
      sandbox.reversePayout({
        payoutReference: result.payoutReference,
        payoutId: "po_5",
        amount: 1n,
        currency: "USD",
        idempotencyKey: "rv_5",
      }),
    ).rejects.toMatchObject({ code: "PSP_REQUEST_REJECTED", pspCode: "payout_failed", param: "amount" });
  });

  it("reset() clears pending payout faults", async () => {
    const { sandbox } = testSandbox();
    sandbox.faults.failNextPayouts(2, "503");
    sandbox.faults.failNextPayoutLookups(1);
    sandbox.faults.reset();
    const { result } = await paidPayout(sandbox, 6);
    expect(result.status).toBe("paid");
    await expect(
      sandbox.retrievePayout({ payoutId: "po_6", sellerId: "S1", currency: "USD" }),
    ).resolves.toEqual(result);
  });
});
