import { Readable } from "node:stream";
import type { Alert, PaymentSystemOptions, ReconciliationItem, SettlementRecord } from "@settlekit/core";
import { defaultFeePolicy } from "@settlekit/psp-sandbox";
import { afterEach, describe, expect, it } from "vitest";
import type { World } from "./support/world.js";
import { cart, DIALECTS, makeWorld, referenceOf } from "./support/world.js";

const HOUR = 3_600_000;
const DAY = { from: new Date("2026-03-01T00:00:00.000Z"), to: new Date("2026-03-02T00:00:00.000Z") };
const DECLINED = "4000 0000 0000 0002";

/** The sandbox's fee schedule: what reconciliation expects it to have kept. */
const sandboxFees = (r: SettlementRecord) =>
  r.type === "charge" ? defaultFeePolicy(r.amount, r.currency, "credit_card") : 0n;

describe.each(DIALECTS)("reconciliation end to end on %s", (dialect) => {
  let world: World;
  const alerts: Alert[] = [];
  afterEach(async () => {
    alerts.length = 0;
    await world?.close();
  });

  async function open(overrides: Partial<PaymentSystemOptions> = {}) {
    world = await makeWorld(dialect, {
      alertSink: { send: async (a) => void alerts.push(a) },
      logger: { warn: () => undefined, error: () => undefined },
      reconciliation: { settlementLagMs: HOUR, expectedFees: { sandbox: sandboxFees } },
      ...overrides,
    });
  }

  async function sale(currency: string, amount: bigint, options: { card?: string; drop?: boolean } = {}) {
    const created = await world.sdk.createPayment(cart({ currency, orders: [{ sellerId: "S1", amount }] }), {
      idempotencyKey: `k-${currency}-${amount}-${Math.random()}`,
    });
    if (options.drop) world.sandbox.faults.dropNextWebhook();
    await world.sandbox.pay(
      referenceOf({ redirect_url: created.payment.redirectUrl }),
      options.card ? { card: options.card } : {},
    );
    await world.deliver();
    world.clock.advance(60_000);
    return created.payment;
  }

  /** A day of traffic: payments in USD, JPY and KWD, a decline, refunds, a fulfilment and a payout. */
  async function day(options: { drop?: boolean } = {}) {
    const usd = await sale("USD", 10_000n);
    const jpy = await sale("JPY", 5_000n);
    const kwd = await sale("KWD", 12_345n);
    await sale("USD", 3_000n, { card: DECLINED });
    const usdOrder = (await world.sdk.getPayment(usd.id)).orders[0]!;
    await world.sdk.refund({ paymentOrderId: usdOrder.id, amount: 2_500n }, { idempotencyKey: "refund-usd" });
    const jpyOrder = (await world.sdk.getPayment(jpy.id)).orders[0]!;
    await world.sdk.refund({ paymentOrderId: jpyOrder.id }, { idempotencyKey: "refund-jpy" });
    const kwdOrder = (await world.sdk.getPayment(kwd.id)).orders[0]!;
    await world.sdk.fulfilOrder({ paymentOrderId: kwdOrder.id });
    const { payouts } = await world.sdk.requestPayout({ sellerId: "S1" });
    expect(payouts.map((p) => p.status)).toEqual(["paid"]);
    const dropped = options.drop ? await sale("USD", 7_700n, { drop: true }) : undefined;
    world.clock.set(new Date("2026-03-02T06:00:00.000Z"));
    return { usd, jpy, kwd, dropped };
  }

  const file = (csv: string) => Readable.from([Buffer.from(csv)]);

  async function items(runId: string): Promise<ReconciliationItem[]> {
    return (await world.sdk.listReconciliationItems(runId, { limit: 1000 })).data.slice();
  }

  it("matches a day of sandbox traffic completely, books it, and raises no alert", async () => {
    await open();
    await day();
    const csv = world.sandbox.settlementCsv("2026-03-01");
    const { run } = await world.sdk.reconcile({
      provider: "sandbox",
      period: DAY,
      source: { format: "sandbox_csv", file: file(csv) },
    });
    const all = await items(run.id);
    expect(all.map((i) => i.class)).toEqual(all.map(() => "matched"));
    expect(all.map((i) => i.recordType).sort()).toEqual([
      "charge",
      "charge",
      "charge",
      "payout",
      "refund",
      "refund",
    ]);
    expect(run).toMatchObject({ discrepancyCount: 0, recordCount: 6, status: "completed" });
    expect(new Set(run.totals.map((t) => t.currency))).toEqual(new Set(["USD", "JPY", "KWD"]));
    const balances = Object.fromEntries(
      (await world.store.ledger.listBalances()).map((b) => [`${b.account} ${b.currency}`, b.balance]),
    );
    // What the PSP kept is booked as fees; the receivable holds only what the PSP still owes (nothing).
    expect(balances["platform:psp_fees USD"]).toBe(defaultFeePolicy(10_000n, "USD", "credit_card"));
    expect(balances["psp:sandbox:receivable KWD"]).toBe(0n);
    expect(balances["psp:sandbox:payouts KWD"]).toBe(0n);
    expect(balances["bank:settlement JPY"]).toBe(-defaultFeePolicy(5_000n, "JPY", "credit_card"));
    // The PSP's own readSettlement gives the same answer.
    const own = await world.sdk.reconcile({ provider: "sandbox", period: DAY });
    expect(own.run).toMatchObject({ source: "psp", discrepancyCount: 0, recordCount: 6 });
    await world.work();
    expect(alerts).toEqual([]);
    // The same file again: the same run, nothing new.
    const again = await world.sdk.reconcile({
      provider: "sandbox",
      period: DAY,
      source: { format: "sandbox_csv", file: file(csv) },
    });
    expect(again).toMatchObject({ replayed: true, run: { id: run.id } });
  });

  it("finds exactly the injected faults — a dropped webhook, a changed fee, a duplicated row — and alerts once", async () => {
    await open();
    const { kwd, dropped } = await day({ drop: true });
    const lines = world.sandbox.settlementCsv("2026-03-01").trimEnd().split("\n");
    const kwdRef = referenceOf({ redirect_url: kwd.redirectUrl });
    const changed = lines.map((line) => {
      if (!line.startsWith(`${kwdRef},charge`)) return line;
      const [ref, type, amount, fee, net, currency, at, reverses] = line.split(",");
      return [ref, type, amount, BigInt(fee!) + 5n, BigInt(net!) - 5n, currency, at, reverses].join(",");
    });
    const duplicated = [...changed, changed[2]!];
    const { run } = await world.sdk.reconcile({
      provider: "sandbox",
      period: DAY,
      source: { format: "sandbox_csv", file: file(`${duplicated.join("\n")}\n`) },
    });
    const problems = (await items(run.id)).filter((i) => i.class !== "matched");
    expect(problems.map((i) => [i.class, i.currency]).sort()).toEqual([
      ["duplicate", expect.any(String)],
      ["fee_mismatch", "KWD"],
      ["missing_in_ledger", "USD"],
    ]);
    expect(problems.find((i) => i.class === "missing_in_ledger")).toMatchObject({
      paymentId: dropped!.id,
      amount: 7_700n,
    });
    expect(problems.find((i) => i.class === "duplicate")?.line).toBe(duplicated.length);
    expect(run.discrepancyCount).toBe(3);
    await world.work();
    await world.work();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.data).toMatchObject({
      runId: run.id,
      discrepancyCount: 3,
      groups: expect.arrayContaining([
        expect.objectContaining({ class: "fee_mismatch", currency: "KWD", count: 1 }),
      ]),
    });
  });
  it("keeps runs idempotent, lets a corrected file supersede, and reports malformed rows by line", async () => {
    await open();
    await day();
    const good = world.sandbox.settlementCsv("2026-03-01");
    const lines = good.trimEnd().split("\n");
    const broken = [
      ...lines.slice(0, 2),
      "sbx_pay_bad,charge,12.5,0,12.5,USD,2026-03-01T12:00:00.000Z,",
      "sbx_pay_bad2,charge,100,0,100,ZZZ,2026-03-01T12:00:00.000Z,",
      ",charge,100,0,100,USD,2026-03-01T12:00:00.000Z,",
      "sbx_pay_bad3,charge,100,0,100,USD",
      ...lines.slice(2),
    ].join("\n");
    const first = await world.sdk.reconcile({
      provider: "sandbox",
      period: DAY,
      source: { format: "sandbox_csv", file: file(broken) },
    });
    const invalid = (await world.sdk.listReconciliationItems(first.run.id, { class: "invalid_row" })).data;
    expect(invalid.map((i) => i.line)).toEqual([3, 4, 5, 6]);
    expect(first.run.totals.filter((t) => t.class === "matched").reduce((n, t) => n + t.count, 0)).toBe(6);
    const journals = (await world.store.ledger.listBalances()).map((b) => [b.account, b.currency, b.balance]);
    const again = await world.sdk.reconcile({
      provider: "sandbox",
      period: DAY,
      source: { format: "sandbox_csv", file: file(broken) },
    });
    expect(again).toEqual({ run: first.run, replayed: true });
    expect((await world.store.ledger.listBalances()).map((b) => [b.account, b.currency, b.balance])).toEqual(
      journals,
    );
    const corrected = await world.sdk.reconcile({
      provider: "sandbox",
      period: DAY,
      source: { format: "sandbox_csv", file: file(good) },
    });
    expect(corrected.run).toMatchObject({ supersedes: first.run.id, discrepancyCount: 0 });
    expect(await world.sdk.getReconciliation(first.run.id)).toMatchObject({
      status: "superseded",
      supersededBy: corrected.run.id,
    });
    expect((await world.sdk.listReconciliations()).data.map((r) => r.id)).toEqual([
      corrected.run.id,
      first.run.id,
    ]);
    await world.work();
    expect(alerts.map((a) => a.data.runId)).toEqual([first.run.id]);
  });
  it("gives one run to the same source reconciled twice at once", async () => {
    await open();
    await day();
    const csv = world.sandbox.settlementCsv("2026-03-01");
    const both = await Promise.all(
      [1, 2].map(() =>
        world.sdk.reconcile({
          provider: "sandbox",
          period: DAY,
          source: { format: "sandbox_csv", file: file(csv) },
        }),
      ),
    );
    expect(both.map((r) => r.replayed).sort()).toEqual([false, true]);
    expect(both[0]?.run.id).toBe(both[1]?.run.id);
    expect((await world.sdk.listReconciliations()).data).toHaveLength(1);
  });
});
