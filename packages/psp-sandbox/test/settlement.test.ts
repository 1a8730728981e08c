import { describe, expect, it } from "vitest";
import { defaultFeePolicy, SETTLEMENT_CSV_HEADER } from "../src/index.js";
import { startServer } from "./support/http.js";
import { registrationInput, testSandbox } from "./support/sandbox-harness.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe("default fee policy", () => {
  it.each([
    [12_345n, 388n],
    [500n, 45n], // 14.5 rounds half up to 15
    [499n, 44n], // 14.471 rounds down
    [1n, 30n],
    [9_007_199_254_740_993n, 261_208_778_387_519n],
  ])("charges %s minor units a fee of %s", (amount, fee) => {
    expect(defaultFeePolicy(amount, "USD", "credit_card")).toBe(fee);
  });
});

describe("settlement file", () => {
  it("lists each day's charges and refunds with fees and nets, in minor units", async () => {
    const { sandbox, clock } = testSandbox(); // 2026-03-01T12:00:00Z
    const a = await sandbox.createHostedPayment(registrationInput());
    await sandbox.pay(a.pspReference); // 12 345 at 12:00
    clock.advance(MINUTE);
    const b = await sandbox.createHostedPayment(
      registrationInput({
        amount: 500n,
        method: "bank_transfer",
        orders: [{ paymentOrderId: "b", sellerId: "S1", amount: 500n }],
      }),
    );
    await sandbox.pay(b.pspReference, { method: "bank_transfer" });
    clock.advance(30_000);
    await sandbox.tick(); // settles at 12:01:30
    const declined = await sandbox.createHostedPayment(registrationInput());
    await sandbox.pay(declined.pspReference, { card: "4000000000000002" });
    clock.advance(2 * HOUR);
    const refundA = await sandbox.refund({
      pspReference: a.pspReference,
      refundId: "r1",
      amount: 2_345n,
      currency: "USD",
      idempotencyKey: "k1",
    });
    clock.advance(11 * HOUR); // 2026-03-02T01:01:30Z
    const c = await sandbox.createHostedPayment(
      registrationInput({
        amount: 1_000n,
        currency: "JPY",
        orders: [{ paymentOrderId: "c", sellerId: "S2", amount: 1_000n }],
      }),
    );
    await sandbox.pay(c.pspReference, { card: "4000 0566 5566 5556" });
    const refundB = await sandbox.refund({
      pspReference: b.pspReference,
      refundId: "r2",
      amount: 100n,
      currency: "USD",
      idempotencyKey: "k2",
    });

    expect(sandbox.settlementCsv("2026-03-01")).toBe(
      [
        SETTLEMENT_CSV_HEADER,
        `${a.pspReference},charge,12345,388,11957,USD,2026-03-01T12:00:00.000Z,`,
        `${b.pspReference},charge,500,45,455,USD,2026-03-01T12:01:30.000Z,`,
        `${refundA.refundReference},refund,-2345,0,-2345,USD,2026-03-01T14:01:30.000Z,`,
        "",
      ].join("\n"),
    );
    expect(sandbox.settlementCsv("2026-03-02")).toBe(
      [
        SETTLEMENT_CSV_HEADER,
        `${c.pspReference},charge,1000,59,941,JPY,2026-03-02T01:01:30.000Z,`,
        `${refundB.refundReference},refund,-100,0,-100,USD,2026-03-02T01:01:30.000Z,`,
        "",
      ].join("\n"),
    );
    expect(sandbox.settlementCsv("2026-02-28")).toBe(`${SETTLEMENT_CSV_HEADER}\n`);
    await sandbox.close();
  });

  it("uses the configured fee policy", async () => {
    const { sandbox } = testSandbox({
      feePolicy: (amount, _currency, instrument) => (instrument === "debit_card" ? 7n : amount / 100n),
    });
    const credit = await sandbox.createHostedPayment(registrationInput());
    await sandbox.pay(credit.pspReference);
    const debit = await sandbox.createHostedPayment(registrationInput());
    await sandbox.pay(debit.pspReference, { card: "4000056655665556" });
    const lines = sandbox.settlementCsv("2026-03-01").trim().split("\n").slice(1);
    expect(lines.map((l) => l.split(",").slice(0, 5).join(","))).toEqual(
      [`${credit.pspReference},charge,12345,123,12222`, `${debit.pspReference},charge,12345,7,12338`].sort(),
    );
  });

  it.each(["2026-02-30", "2026-3-01", "yesterday"])("rejects the date %s", (date) => {
    const { sandbox } = testSandbox();
    expect(() => sandbox.settlementCsv(date)).toThrow(
      expect.objectContaining({ code: "VALIDATION_FAILED", param: "date" }),
    );
  });

  it("serves the file over HTTP at /settlement/<date>.csv", async () => {
    let handler: ReturnType<typeof testSandbox>["sandbox"]["handler"] | undefined;
    const server = await startServer((req, res) => handler!(req, res));
    try {
      const { sandbox } = testSandbox({ baseUrl: `${server.origin}/sandbox` });
      handler = sandbox.handler;
      const paid = await sandbox.createHostedPayment(registrationInput());
      await sandbox.pay(paid.pspReference);
      const response = await fetch(`${server.origin}/sandbox/settlement/2026-03-01.csv`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
      expect(await response.text()).toBe(
        `${SETTLEMENT_CSV_HEADER}\n${paid.pspReference},charge,12345,388,11957,USD,2026-03-01T12:00:00.000Z,\n`,
      );
      expect((await fetch(`${server.origin}/sandbox/settlement/2026-02-30.csv`)).status).toBe(400);
    } finally {
      await server.close();
    }
  });
});
