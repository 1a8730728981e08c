import { readFileSync } from "node:fs";
import type { SettlementRecord } from "@settlekit/core";
import { afterEach, describe, expect, it } from "vitest";
import { parseReconciliationReport, stripeExponent, withReversedTransfers } from "../src/index.js";
import type { StripeWorld } from "./support/harness.js";
import { stripeWorld } from "./support/harness.js";
import { registrationInput } from "./support/inputs.js";

const FIXTURE = readFileSync(
  new URL("./fixtures/payout_reconciliation.itemized.5.csv", import.meta.url),
  "utf8",
);
const at = (text: string) => new Date(`${text.replace(" ", "T")}Z`);
const bank = { bankPayoutReference: "po_1QfixtureAAA" };

describe("parseReconciliationReport (payout_reconciliation.itemized.5)", () => {
  it("turns the fixture's major units into exact minor units by each currency's exponent", () => {
    expect(parseReconciliationReport(FIXTURE)).toEqual<SettlementRecord[]>([
      {
        recordId: "txn_charge_usd",
        type: "charge",
        amount: 12_345n,
        fee: 388n,
        net: 11_957n,
        currency: "USD",
        createdAt: at("2026-03-01 12:00:05"),
        availableAt: at("2026-03-03 00:00:00"),
        paymentId: "pay_A",
        pspReference: "pi_usd",
        ...bank,
      },
      {
        recordId: "txn_refund_usd",
        type: "refund",
        amount: -2_345n,
        fee: 0n,
        net: -2_345n,
        currency: "USD",
        createdAt: at("2026-03-01 14:00:00"),
        availableAt: at("2026-03-01 14:00:00"),
        paymentId: "pay_A",
        pspReference: "cs_test_A",
        refundReference: "re_usd",
        ...bank,
      },
      {
        recordId: "txn_transfer_usd",
        type: "payout",
        amount: -10_000n,
        fee: 0n,
        net: -10_000n,
        currency: "USD",
        createdAt: at("2026-03-02 09:30:00"),
        availableAt: at("2026-03-02 09:30:00"),
        paymentId: "pay_A",
        payoutReference: "tr_usd",
        ...bank,
      },
      {
        recordId: "txn_charge_jpy",
        type: "charge",
        amount: 1_000n,
        fee: 36n,
        net: 964n,
        currency: "JPY",
        createdAt: at("2026-03-02 10:00:00"),
        availableAt: at("2026-03-04 00:00:00"),
        paymentId: "pay_B",
        pspReference: "pi_jpy",
        ...bank,
      },
      {
        recordId: "txn_charge_kwd",
        type: "charge",
        amount: 1_230n,
        fee: 40n,
        net: 1_190n,
        currency: "KWD",
        createdAt: at("2026-03-02 11:00:00"),
        availableAt: at("2026-03-04 00:00:00"),
        paymentId: "pay_C",
        pspReference: "pi_kwd",
        ...bank,
      },
      {
        recordId: "txn_fee_usd",
        type: "fee",
        amount: -200n,
        fee: 0n,
        net: -200n,
        currency: "USD",
        createdAt: at("2026-03-02 23:59:59"),
        availableAt: at("2026-03-02 23:59:59"),
        ...bank,
      },
    ]);
  });

  const minimal = (row: string) =>
    `balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category\n${row}\n`;

  it.each([
    ["10.100", "usd", 1_010n], // extra zeros are still exact
    ["-0.05", "usd", -5n],
    ["5000", "isk", 5_000n],
    ["0.0001", "clf", 1n],
  ])("reads %s %s as %s minor units", (gross, currency, amount) => {
    const [record] = parseReconciliationReport(
      minimal(`txn,2026-03-01 00:00:00,${currency},${gross},0,${gross},charge`),
    );
    expect(record).toMatchObject({ amount, net: amount, currency: currency.toUpperCase() });
  });

  it.each([
    ["a fraction of a minor unit", minimal("txn,2026-03-01 00:00:00,usd,12.345,0,12.345,charge"), "gross", 2],
    ["a fraction of a yen", minimal("txn,2026-03-01 00:00:00,jpy,1000.5,0,1000.5,charge"), "gross", 2],
    ["a float's exponent", minimal("txn,2026-03-01 00:00:00,usd,1e3,0,1e3,charge"), "gross", 2],
    [
      "a net that is not gross − fee",
      minimal("txn,2026-03-01 00:00:00,usd,10.00,0.30,9.80,charge"),
      "net",
      2,
    ],
    ["an unknown currency", minimal("txn,2026-03-01 00:00:00,xxx,1,0,1,charge"), "currency", 2],
    ["a local time", minimal("txn,01/03/2026 12:00,usd,1,0,1,charge"), "created_utc", 2],
    [
      "a missing column",
      "balance_transaction_id,created_utc,currency,gross,fee\ntxn,2026-03-01 00:00:00,usd,1,0\n",
      "net",
      1,
    ],
  ])("refuses %s, naming the line and column", (_label, csv, param, line) => {
    expect(() => parseReconciliationReport(csv)).toThrow(
      expect.objectContaining({
        code: "VALIDATION_FAILED",
        param,
        details: expect.objectContaining({ line }),
      }),
    );
  });

  it("refuses a quoted field that never ends", () => {
    expect(() => parseReconciliationReport(minimal('txn,2026-03-01 00:00:00,usd,"1,0,1,charge'))).toThrow(
      expect.objectContaining({ code: "VALIDATION_FAILED", param: "csv" }),
    );
  });
});

describe("readSettlement from balance transactions", () => {
  let world: StripeWorld;
  afterEach(async () => world?.fake.close());

  const collect = async (iterable: AsyncIterable<SettlementRecord>) => {
    const out: SettlementRecord[] = [];
    for await (const record of iterable) out.push(record);
    return out;
  };

  it("lists what an automatic payout settled, page by page, the same records as its report", async () => {
    world = await stripeWorld();
    const input = registrationInput({
      amount: 100_000n,
      orders: [{ paymentOrderId: "po", sellerId: "S1", amount: 100_000n }],
    });
    const { pspReference } = await world.provider.createHostedPayment(input);
    world.fake.pay(pspReference, "succeeded");
    // 1 charge + 105 refunds: two pages of 100.
    for (let i = 0; i < 105; i++) {
      await world.provider.refund({
        pspReference,
        refundId: `rf_${i}`,
        amount: 1n,
        currency: "USD",
        idempotencyKey: `rk_${i}`,
      });
    }
    const payout = world.fake.payOut("usd");
    const before = world.fake.requests.length;
    const records = await collect(world.provider.readSettlement({ bankPayoutReference: payout.id }));

    const pages = world.fake.requests.slice(before);
    expect(pages.map((r) => [r.path, r.query.payout, r.query.limit, r.query.starting_after])).toEqual([
      ["/v1/balance_transactions", payout.id, "100", undefined],
      ["/v1/balance_transactions", payout.id, "100", records[99]!.recordId],
    ]);
    expect(pages[0]!.query["expand[0]"]).toBe("data.source");
    expect(records.filter((r) => r.type === "charge")).toEqual([
      expect.objectContaining({
        amount: 100_000n,
        paymentId: input.paymentId,
        bankPayoutReference: payout.id,
      }),
    ]);
    expect(records.filter((r) => r.type === "refund")).toHaveLength(105);
    expect(records.filter((r) => r.type === "bank_payout")).toEqual([
      expect.objectContaining({ amount: -(100_000n - 105n - records.find((r) => r.type === "charge")!.fee) }),
    ]);

    // Stripe's report of the same payout says the same (the payout's own line excluded), oldest first.
    const report = parseReconciliationReport(
      world.fake.reportCsv(payout.id, (c) => stripeExponent(c.toUpperCase())),
    );
    expect(report).toEqual(records.filter((r) => r.type !== "bank_payout").reverse());
  });

  it("lists a period [from, to) exactly although Stripe keeps whole seconds: a movement at T is in [T − 0.5 s, T + 1 ms) and not in [T + 1 ms, …) or [… , T)", async () => {
    world = await stripeWorld();
    const t = world.clock.now().getTime(); // a whole second
    const { pspReference } = await world.provider.createHostedPayment(registrationInput());
    world.fake.pay(pspReference, "succeeded");
    const read = async (from: number, to: number) => {
      const before = world.fake.requests.length;
      const records = await collect(
        world.provider.readSettlement({ from: new Date(from), to: new Date(to) }),
      );
      const [request] = world.fake.requests.slice(before);
      return {
        types: records.map((r) => r.type),
        gte: request!.query["created[gte]"],
        lt: request!.query["created[lt]"],
      };
    };
    expect(await read(t - 500, t + 1)).toEqual({
      types: ["charge"],
      gte: String(t / 1000),
      lt: String(t / 1000 + 1),
    });
    expect((await read(t + 1, t + 86_400_000)).types).toEqual([]);
    expect((await read(t - 86_400_000, t)).types).toEqual([]);
    expect((await read(t, t + 1_000)).types).toEqual(["charge"]);
  });

  it("gives a transfer reversal the transfer's payoutReference from the report and from balance transactions alike", async () => {
    world = await stripeWorld();
    const input = registrationInput();
    const { pspReference } = await world.provider.createHostedPayment(input);
    world.fake.pay(pspReference, "succeeded");
    const { payoutReference } = await world.provider.payout({
      payoutId: "pay_1",
      sellerId: "S1",
      amount: 10_000n,
      currency: "USD",
      paymentId: input.paymentId,
      pspReference,
      idempotencyKey: "pk_1",
    });
    const reversal = await world.client.transfers.createReversal(payoutReference, { amount: 4_000 });
    const payout = world.fake.payOut("usd");

    const fromApi = await collect(world.provider.readSettlement({ bankPayoutReference: payout.id }));
    const parsed = parseReconciliationReport(
      world.fake.reportCsv(payout.id, (c) => stripeExponent(c.toUpperCase())),
    );
    // The report's row names only the reversal (`source_id` trr_…) until resolved.
    expect(parsed.find((r) => r.payoutReversalReference)).not.toHaveProperty("payoutReference");
    const fromReport = await withReversedTransfers(world.client, parsed);

    const reversals = (records: SettlementRecord[]) =>
      records.filter((r) => r.payoutReversalReference !== undefined);
    const expected = expect.objectContaining({
      type: "payout",
      amount: 4_000n,
      payoutReference, // the tr_… that payout() returned
      payoutReversalReference: reversal.id,
    });
    expect(reversals(fromApi)).toEqual([expected]);
    expect(reversals(fromReport)).toEqual([expected]);
    expect(fromReport).toEqual(fromApi.filter((r) => r.type !== "bank_payout").reverse());
  });
});
