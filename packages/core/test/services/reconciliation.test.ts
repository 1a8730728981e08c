import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { ReconciliationClass, ReconciliationItem } from "../../src/domain/reconciliation.js";
import type { Alert } from "../../src/ports/alerts.js";
import type { Store, StoreTx } from "../../src/ports/store.js";
import { manualClock } from "../../src/runtime/clock.js";
import { memoryStore } from "../../src/testing/memory/memory-store.js";
import { reconciliationItemView, reconciliationView } from "../../src/views/reconciliation.js";
import { fakePsp } from "../support/fake-psp.js";
import type { World } from "../support/world.js";
import { cart, makeWorld, referenceOf, T0 } from "../support/world.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PERIOD = { from: new Date("2026-03-01T00:00:00.000Z"), to: new Date("2026-03-02T00:00:00.000Z") };

/** A file as a stream of small chunks (lines split across chunks), as an upload arrives. */
const stream = (text: string) => {
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += 7) chunks.push(text.slice(i, i + 7));
  return Readable.from(chunks);
};

const HEADER = "reference,type,amount,fee,net,currency,settled_at";
const row = (
  ref: string,
  type: string,
  amount: bigint | string,
  fee: bigint | string,
  net: bigint | string,
  currency: string,
) => [ref, type, amount, fee, net, currency, T0.toISOString()].join(",");

/** A paid payment of one order. */
async function pay(
  world: World,
  currency: string,
  amount: bigint,
  key: string,
  outcome: "succeeded" | "declined" | "none" = "succeeded",
) {
  const created = await world.system.createPayment(cart({ currency, orders: [{ sellerId: "S1", amount }] }), {
    idempotencyKey: key,
  });
  const ref = referenceOf(created.payment);
  if (outcome !== "none") {
    await world.psp.pay(ref, outcome);
    await world.deliver();
  }
  return { id: created.payment.id, ref, orderId: created.payment.orders[0]!.id, amount };
}

async function allItems(world: World, runId: string): Promise<ReconciliationItem[]> {
  const out: ReconciliationItem[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await world.system.listReconciliationItems(runId, {
      limit: 3,
      ...(cursor ? { cursor } : {}),
    });
    out.push(...page.data);
    if (!page.nextCursor) return out;
    cursor = page.nextCursor;
  }
}

const classes = (items: readonly ReconciliationItem[]) =>
  items.map((i) => `${i.class}${i.currency ? ` ${i.currency}` : ""}`).sort();

/** A ledger with every case: payments in USD, JPY and KWD, a refund, a decline, one still unpaid. */
async function ledger(world: World) {
  const usd = await pay(world, "USD", 10_000n, "k1");
  const jpy = await pay(world, "JPY", 5_000n, "k2");
  const kwd = await pay(world, "KWD", 12_345n, "k3");
  const usdFee = await pay(world, "USD", 2_000n, "k4");
  const jpyCur = await pay(world, "JPY", 700n, "k5");
  const kwdAmount = await pay(world, "KWD", 1_000n, "k6");
  const declined = await pay(world, "USD", 3_000n, "k7", "declined");
  const unpaid = await pay(world, "USD", 4_000n, "k8", "none");
  const lost = await pay(world, "JPY", 9_000n, "k9"); // the PSP never lists it
  const refund = await world.system.refund(
    { paymentOrderId: usd.orderId, amount: 1_000n },
    { idempotencyKey: "r1" },
  );
  return { usd, jpy, kwd, usdFee, jpyCur, kwdAmount, declined, unpaid, lost, refund };
}

function settlementFile(l: Awaited<ReturnType<typeof ledger>>) {
  return [
    HEADER,
    row(l.usd.ref, "charge", 10_000n, 320n, 9_680n, "USD"), // 2 matched
    row(l.jpy.ref, "charge", 5_000n, 175n, 4_825n, "JPY"), // 3 matched
    row(l.kwd.ref, "charge", 12_345n, 388n, 11_957n, "KWD"), // 4 matched
    row(l.usdFee.ref, "charge", 2_000n, 90n, 1_900n, "USD"), // 5 fee_mismatch (2000 − 90 ≠ 1900)
    row(l.jpyCur.ref, "charge", 700n, 0n, 700n, "USD"), // 6 currency_mismatch
    row(l.kwdAmount.ref, "charge", 1_500n, 0n, 1_500n, "KWD"), // 7 amount_mismatch
    row(l.declined.ref, "charge", 3_000n, 0n, 3_000n, "USD"), // 8 status_mismatch
    row(l.unpaid.ref, "charge", 4_000n, 0n, 4_000n, "USD"), // 9 pending (inside the lag)
    row("fake_unknown", "charge", 100n, 0n, 100n, "USD"), // 10 missing_in_ledger
    row(String(l.refund.pspRefundReference), "refund", -1_000n, 0n, -1_000n, "USD"), // 11 matched
    row(l.jpy.ref, "charge", 5_000n, 175n, 4_825n, "JPY"), // 12 duplicate
    row("fake_x1", "charge", "12.5", 0n, "12.5", "USD"), // 13 invalid: bad amount
    row("fake_x2", "charge", 100n, 0n, 100n, "XXQ"), // 14 invalid: unknown currency
    row("", "charge", 100n, 0n, 100n, "USD"), // 15 invalid: missing reference
    "fake_x3,charge,100,0,100,USD", // 16 invalid: wrong column count
  ].join("\n");
}

describe("reconciliation (memory store, fake PSP)", () => {
  it("gives every record and ledger item one class, in USD, JPY and KWD, with line numbers for bad rows", async () => {
    const sent: Alert[] = [];
    const world = makeWorld({ alertSink: { send: async (a) => void sent.push(a) } });
    const l = await ledger(world);
    world.clock.set(new Date(T0.getTime() + 2 * HOUR));
    const { run, replayed } = await world.system.reconcile({
      provider: "fake",
      period: PERIOD,
      source: { format: "sandbox_csv", file: stream(settlementFile(l)) },
      settlementLagMs: DAY,
      expectedFee: (r) => (r.type === "charge" && r.currency === "KWD" ? 388n : undefined),
    });
    expect(replayed).toBe(false);
    const items = await allItems(world, run.id);
    expect(classes(items)).toEqual(
      [
        "amount_mismatch KWD",
        "currency_mismatch USD",
        "duplicate JPY",
        "fee_mismatch USD",
        "invalid_row",
        "invalid_row",
        "invalid_row",
        "invalid_row",
        "matched JPY",
        "matched KWD",
        "matched USD",
        "matched USD",
        "missing_in_ledger USD",
        "pending USD",
        "status_mismatch USD",
        // the JPY payment the PSP never listed: the ledger's journal is still inside the lag
        "pending JPY",
      ].sort(),
    );
    expect(items.filter((i) => i.class === "invalid_row").map((i) => i.line)).toEqual([13, 14, 15, 16]);
    expect(items.find((i) => i.line === 16)?.message).toMatch(/expected 7 columns, found 6/);
    expect(items.find((i) => i.line === 14)?.message).toMatch(/unknown currency/);
    expect(items.find((i) => i.class === "pending" && i.currency === "JPY")).toMatchObject({
      journalReference: `payment:${l.lost.id}:${l.lost.ref}`,
      paymentId: l.lost.id,
      expectedAmount: 9_000n,
    });
    expect(run).toMatchObject({
      status: "completed",
      recordCount: 15,
      discrepancyCount: 10,
      source: "sandbox_csv",
    });
    expect(run.totals.find((t) => t.class === "matched" && t.currency === "USD")).toEqual({
      class: "matched",
      currency: "USD",
      count: 2,
      amount: 9_000n,
    });
    // Matched records are booked: receivable → bank, fees to platform:psp_fees.
    const balances = await world.balances();
    expect(balances["platform:psp_fees USD"]).toBe(320n);
    expect(balances["platform:psp_fees KWD"]).toBe(388n);
    expect(balances["bank:settlement USD"]).toBe(9_680n - 1_000n);
    expect(balances["bank:settlement JPY"]).toBe(4_825n);
    // One alert, through the durable job.
    await world.work();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      alertId: `reconciliation:${run.id}`,
      kind: "reconciliation.discrepancies",
    });
    expect(sent[0]?.data).toMatchObject({ runId: run.id, discrepancyCount: 10 });
    expect(JSON.stringify(reconciliationView(run))).toContain('"discrepancy_count":10');
    expect(reconciliationItemView(items[0]!)).toMatchObject({
      object: "reconciliation_item",
      reconciliation_id: run.id,
    });

    // After the lag: the unpaid payment's record and the JPY payment the PSP never listed are discrepancies.
    world.clock.set(new Date(T0.getTime() + 2 * DAY));
    const later = await world.system.reconcile({
      provider: "fake",
      period: PERIOD,
      source: { format: "sandbox_csv", file: stream(`${settlementFile(l)}\n`) },
      settlementLagMs: DAY,
    });
    const laterItems = await allItems(world, later.run.id);
    expect(laterItems.find((i) => i.line === 9)?.class).toBe("missing_in_ledger");
    expect(laterItems.find((i) => i.paymentId === l.lost.id)?.class).toBe("missing_at_psp");
  });

  it("without booking, the store settles exact charges set-based and the run is the classifier's, item for item", async () => {
    const inner = memoryStore();
    let setBased = true;
    const settled: number[] = [];
    /** The memory store, its set-based pass switched on or off (off: every staged charge back to the classifier). */
    const store: Store = new Proxy(inner, {
      get(target, key) {
        if (key !== "transaction") return Reflect.get(target, key, target);
        return (work: (tx: StoreTx) => Promise<unknown>, options?: { readOnly?: boolean }) =>
          target.transaction((tx) => {
            const reconciliation = new Proxy(tx.reconciliation, {
              get(repo, name) {
                if (name !== "matchExactCharges") return Reflect.get(repo, name, repo);
                return async (q: Parameters<StoreTx["reconciliation"]["matchExactCharges"]>[0]) => {
                  if (!setBased) return { notMatched: q.charges.map((c) => c.seq), matched: [] };
                  const m = await repo.matchExactCharges(q);
                  settled.push(q.charges.length - m.notMatched.length);
                  return m;
                };
              },
            });
            return work(
              new Proxy(tx, {
                get: (t, k) => (k === "reconciliation" ? reconciliation : Reflect.get(t, k, t)),
              }),
            );
          }, options);
      },
    });
    const world = makeWorld({ store });
    const l = await ledger(world);
    world.clock.set(new Date(T0.getTime() + 2 * HOUR));
    const reconcile = (text: string) =>
      world.system.reconcile({
        provider: "fake",
        period: PERIOD,
        source: { format: "sandbox_csv", file: stream(text) },
        settlementLagMs: DAY,
        expectedFee: (r) => (r.type === "charge" && r.currency === "KWD" ? 388n : undefined),
        book: false,
        batchSize: 4,
      });
    setBased = false;
    const classified = await reconcile(settlementFile(l));
    setBased = true;
    const stored = await reconcile(`${settlementFile(l)}\n`);
    // The USD, JPY and KWD charges of the first batch; the JPY one's second record (line 12, a later
    // batch) is found by the claimed keys and classified a duplicate.
    expect(settled.reduce((a, b) => a + b, 0)).toBe(3);
    const strip = (items: ReconciliationItem[]) => items.map(({ runId: _r, ...item }) => item);
    expect(strip(await allItems(world, stored.run.id))).toEqual(
      strip(await allItems(world, classified.run.id)),
    );
    expect(stored.run.totals).toEqual(classified.run.totals);
    expect(stored.run).toMatchObject({
      recordCount: classified.run.recordCount,
      discrepancyCount: classified.run.discrepancyCount,
      supersedes: classified.run.id,
    });
  });

  it("a source that fails after a batch went to the store leaves no run and no items", async () => {
    const world = makeWorld();
    const l = await ledger(world);
    const broken = Readable.from(
      (async function* () {
        yield `${HEADER}\n${row(l.usd.ref, "charge", 10_000n, 320n, 9_680n, "USD")}\n`;
        yield `${row(l.kwd.ref, "charge", 12_345n, 388n, 11_957n, "KWD")}\n`;
        throw new Error("the upload broke off");
      })(),
    );
    await expect(
      world.system.reconcile({
        provider: "fake",
        period: PERIOD,
        source: { format: "sandbox_csv", file: broken },
        book: false,
        batchSize: 1,
      }),
    ).rejects.toThrow(/broke off/);
    expect((await world.system.listReconciliations()).data).toEqual([]);
    const runs = await world.store.transaction((tx) => tx.reconciliation.listRuns({ limit: 10 }));
    expect(runs).toEqual([]);
  });

  it("answers the same run for the same file and changes nothing; a corrected file supersedes it", async () => {
    const sent: Alert[] = [];
    const world = makeWorld({ alertSink: { send: async (a) => void sent.push(a) } });
    const a = await pay(world, "USD", 10_000n, "k1");
    const b = await pay(world, "KWD", 2_500n, "k2");
    const good = [
      HEADER,
      row(a.ref, "charge", 10_000n, 320n, 9_680n, "USD"),
      row(b.ref, "charge", 2_500n, 100n, 2_400n, "KWD"),
    ].join("\n");
    const wrong = [HEADER, row(a.ref, "charge", 10_000n, 320n, 9_680n, "USD")].join("\n");
    world.clock.set(new Date(T0.getTime() + 2 * DAY));
    const first = await world.system.reconcile({
      provider: "fake",
      period: PERIOD,
      source: { format: "sandbox_csv", file: stream(wrong) },
    });
    expect(first.run.discrepancyCount).toBe(1); // b is missing at the PSP
    const journals = await world.store.inspect.count("journals");
    const items = await world.store.inspect.count("reconciliation_items");
    const again = await world.system.reconcile({
      provider: "fake",
      period: PERIOD,
      source: { format: "sandbox_csv", file: stream(wrong) },
    });
    expect(again).toEqual({ run: first.run, replayed: true });
    expect(await world.store.inspect.count("journals")).toBe(journals);
    expect(await world.store.inspect.count("reconciliation_items")).toBe(items);
    expect(await world.store.inspect.count("reconciliation_runs")).toBe(1);

    const corrected = await world.system.reconcile({
      provider: "fake",
      period: PERIOD,
      source: { format: "sandbox_csv", file: stream(good) },
    });
    expect(corrected.replayed).toBe(false);
    expect(corrected.run).toMatchObject({
      supersedes: first.run.id,
      discrepancyCount: 0,
      status: "completed",
    });
    expect(await world.system.getReconciliation(first.run.id)).toMatchObject({
      status: "superseded",
      supersededBy: corrected.run.id,
    });
    const list = await world.system.listReconciliations({ limit: 1 });
    expect(list.data.map((r) => r.id)).toEqual([corrected.run.id]);
    expect(list.nextCursor).toBe(corrected.run.id);
    const next = await world.system.listReconciliations({ limit: 1, beforeId: list.nextCursor! });
    expect(next.data.map((r) => r.id)).toEqual([first.run.id]);
    // The USD record was booked once, by the first run.
    expect((await world.balances())["bank:settlement USD"]).toBe(9_680n);
    await world.work();
    expect(sent.map((s) => s.data.runId)).toEqual([first.run.id]);
  });

  it("is a discrepancy when the file is empty while payments exist, or when nothing matched", async () => {
    const world = makeWorld();
    await pay(world, "JPY", 5_000n, "k1");
    world.clock.set(new Date(T0.getTime() + 2 * DAY));
    const empty = await world.system.reconcile({
      provider: "fake",
      period: PERIOD,
      source: { format: "sandbox_csv", file: stream(`${HEADER}\n`) },
    });
    expect(empty.run).toMatchObject({ anomaly: "empty_source", recordCount: 0, discrepancyCount: 2 });
    const strangers = [HEADER, row("fake_nobody", "charge", 1n, 0n, 1n, "USD")].join("\n");
    const none = await world.system.reconcile({
      provider: "fake",
      period: PERIOD,
      source: { format: "sandbox_csv", file: stream(strangers) },
    });
    expect(none.run).toMatchObject({ anomaly: "nothing_matched", discrepancyCount: 3 });
  });

  it("is no anomaly while every record still waits (inside the lag), nothing_matched once one is due (seed 1392)", async () => {
    const world = makeWorld();
    const { ref } = await pay(world, "USD", 1_000n, "k1", "none");
    await world.psp.pay(ref, "succeeded");
    await world.psp.webhooks(); // lost on the way
    const file = () => stream([HEADER, row(ref, "charge", 1_000n, 0n, 1_000n, "USD")].join("\n"));
    const reconcile = () =>
      world.system.reconcile({
        provider: "fake",
        period: PERIOD,
        settlementLagMs: HOUR,
        source: { format: "sandbox_csv", file: file() },
      });
    world.clock.set(new Date(T0.getTime() + 30 * 60_000));
    const waiting = await reconcile();
    expect(waiting.run).toMatchObject({ discrepancyCount: 0 });
    expect(waiting.run.anomaly).toBeUndefined();
    expect(classes(await allItems(world, waiting.run.id))).toEqual(["pending USD"]);
    world.clock.set(new Date(T0.getTime() + 2 * HOUR));
    const due = await reconcile();
    expect(due.run).toMatchObject({ anomaly: "nothing_matched", discrepancyCount: 2 });
  });

  it("reads Stripe's itemized report (major units, exact) and matches bank payouts three ways", async () => {
    const world = makeWorld();
    const a = await pay(world, "USD", 10_050n, "k1");
    const b = await pay(world, "KWD", 12_345n, "k2");
    const c = await pay(world, "JPY", 5_000n, "k3");
    const header =
      "balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,source_id,payment_intent_id,automatic_payout_id,payment_metadata[settlekit_payment_id]";
    const report = [
      header,
      `txn_1,2026-03-01 12:00:00,2026-03-03 00:00:00,usd,100.50,3.21,97.29,charge,ch_1,pi_1,po_usd,${a.id}`,
      `txn_2,2026-03-01 12:00:00,2026-03-03 00:00:00,kwd,12.345,0.100,12.245,charge,ch_2,pi_2,po_kwd,${b.id}`,
      `txn_3,2026-03-01 12:00:00,2026-03-03 00:00:00,jpy,5000,150,4850,charge,ch_3,pi_3,po_jpy,${c.id}`,
      "txn_4,2026-03-01 12:00:00,2026-03-03 00:00:00,usd,1.005,0,1.005,charge,ch_4,pi_4,po_usd,",
    ].join("\n");
    const bank = [
      "date,amount,currency,reference",
      "2026-03-03,97.29,USD,STRIPE po_usd",
      "2026-03-03,12.000,KWD,po_kwd",
    ].join("\n");
    world.clock.set(new Date(T0.getTime() + 3 * DAY));
    const { run } = await world.system.reconcile({
      provider: "fake",
      period: PERIOD,
      source: { format: "stripe_itemized_csv", file: stream(report) },
      bankStatement: { file: stream(bank) },
    });
    const items = await allItems(world, run.id);
    expect(items.filter((i) => i.leg === "psp_ledger").map((i) => [i.line, i.class])).toEqual([
      [2, "matched"],
      [3, "matched"],
      [4, "matched"],
      [5, "invalid_row"],
    ]);
    expect(items.find((i) => i.line === 2)).toMatchObject({ amount: 10_050n, fee: 321n, paymentId: a.id });
    expect(items.find((i) => i.line === 3)).toMatchObject({ amount: 12_345n, fee: 100n });
    const bankLeg = items.filter((i) => i.leg !== "psp_ledger").map((i) => [i.leg, i.recordId, i.class]);
    expect(bankLeg).toEqual([
      ["payout_sum", "po_usd", "matched"],
      ["psp_bank", "po_usd", "matched"],
      ["payout_sum", "po_kwd", "matched"],
      ["psp_bank", "po_kwd", "amount_mismatch"], // a short payout
      ["payout_sum", "po_jpy", "matched"],
      ["psp_bank", "po_jpy", "missing_at_bank"],
    ]);
    expect(run.bankLineCount).toBe(2);
  });

  it("takes a bank statement given as a function once the settlement file is read, and none when it gives none", async () => {
    const world = makeWorld();
    const a = await pay(world, "USD", 10_050n, "k1");
    const header =
      "balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,source_id,payment_intent_id,automatic_payout_id,payment_metadata[settlekit_payment_id]";
    const report = [
      header,
      `txn_1,2026-03-01 12:00:00,2026-03-03 00:00:00,usd,100.50,3.21,97.29,charge,ch_1,pi_1,po_usd,${a.id}`,
    ].join("\n");
    const bank = ["date,amount,currency,reference", "2026-03-03,97.29,USD,po_usd"].join("\n");
    world.clock.set(new Date(T0.getTime() + 3 * DAY));
    let settlementRead = false;
    const settlement = async function* () {
      yield* stream(report);
      settlementRead = true;
    };
    const asked: boolean[] = [];
    const eager = await world.system.reconcile({
      provider: "fake",
      period: PERIOD,
      source: { format: "stripe_itemized_csv", file: settlement() },
      bankStatement: async () => {
        asked.push(settlementRead);
        return { file: stream(bank) };
      },
    });
    expect(asked).toEqual([true]);
    expect(eager.run.bankLineCount).toBe(1);
    const bankLeg = (await allItems(world, eager.run.id)).filter((i) => i.leg === "psp_bank");
    expect(bankLeg.map((i) => [i.recordId, i.class])).toEqual([["po_usd", "matched"]]);
    // None given: as without a statement — the payout is checked against its records only.
    const none = await world.system.reconcile({
      provider: "fake",
      period: { from: PERIOD.from, to: new Date(PERIOD.to.getTime() + 1) },
      source: { format: "stripe_itemized_csv", file: stream(report) },
      bankStatement: async () => undefined,
    });
    const without = await world.system.reconcile({
      provider: "fake",
      period: { from: PERIOD.from, to: new Date(PERIOD.to.getTime() + 2) },
      source: { format: "stripe_itemized_csv", file: stream(report) },
    });
    const legs = async (runId: string) =>
      (await allItems(world, runId)).filter((i) => i.leg !== "psp_ledger").map((i) => [i.leg, i.class]);
    expect(none.run.bankLineCount).toBe(0);
    expect(await legs(none.run.id)).toEqual(await legs(without.run.id));
    expect(await legs(none.run.id)).not.toContainEqual(["psp_bank", "matched"]);
  });

  it("resolves a discrepancy with who and why, and a correcting journal", async () => {
    const world = makeWorld();
    await pay(world, "USD", 10_000n, "k1");
    world.clock.set(new Date(T0.getTime() + 2 * DAY));
    const file = [HEADER, row("fake_stray", "charge", 500n, 0n, 500n, "USD")].join("\n");
    const { run } = await world.system.reconcile({
      provider: "fake",
      period: PERIOD,
      source: { format: "sandbox_csv", file: stream(file) },
    });
    const [stray] = (await world.system.listReconciliationItems(run.id, { class: "missing_in_ledger" })).data;
    const resolved = await world.system.resolveReconciliationItem({
      runId: run.id,
      seq: stray!.seq,
      resolvedBy: "ops@shop.test",
      note: "a test charge made in the PSP's dashboard",
      journal: {
        reference: "correction:fake_stray",
        kind: "reconciliation_correction",
        postings: [
          { account: "bank:settlement", currency: "USD", direction: "debit", amount: 500n },
          { account: "platform:adjustments", currency: "USD", direction: "credit", amount: 500n },
        ],
      },
    });
    expect(resolved.resolution).toMatchObject({
      resolvedBy: "ops@shop.test",
      journalReference: "correction:fake_stray",
    });
    expect(
      (await world.system.listReconciliationItems(run.id, { class: "missing_in_ledger" })).data[0]?.resolution
        ?.note,
    ).toMatch(/dashboard/);
    await expect(
      world.system.resolveReconciliationItem({
        runId: run.id,
        seq: stray!.seq,
        resolvedBy: "x",
        note: "again",
      }),
    ).rejects.toMatchObject({ code: "INVALID_STATE_TRANSITION" });
    const classOf = (c: ReconciliationClass) => world.system.listReconciliationItems(run.id, { class: c });
    const [missing] = (await classOf("missing_at_psp")).data;
    expect(missing).toBeDefined();
  });
  it("a PSP whose settlement read stops answering fails the run with PSP_TIMEOUT within pspTimeoutMs, leaving no run", async () => {
    const { provider } = fakePsp(manualClock(T0));
    const hanging = {
      ...provider,
      readSettlement: () => ({
        [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<never>>(() => undefined) }),
      }),
    };
    const world = makeWorld({ providers: [hanging], pspTimeoutMs: 50 });
    const started = Date.now();
    await expect(world.system.reconcile({ provider: "fake", period: PERIOD })).rejects.toMatchObject({
      code: "PSP_TIMEOUT",
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await world.system.listReconciliations()).data).toEqual([]);
  });
  it("refuses a source a JavaScript caller got wrong with VALIDATION_FAILED naming the field, reading nothing", async () => {
    const world = makeWorld();
    const refused = (source: unknown) =>
      world.system.reconcile({ provider: "fake", period: PERIOD, source } as never);
    await expect(refused({ format: "stripe_itemized", file: stream(HEADER) })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      param: "source.format",
    });
    await expect(refused({ format: "sandbox_csv", file: HEADER })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      param: "source.file",
    });
    await expect(refused({ format: "mapped_csv", file: stream(HEADER) })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      param: "source.mapping",
    });
    expect((await world.system.listReconciliations()).data).toEqual([]);
  });

  it("alerts through the logger by default: one error line per run with discrepancies", async () => {
    const warnings: { message: string; details: unknown }[] = [];
    const world = makeWorld({
      logger: {
        warn: () => undefined,
        error: (message, details) => void warnings.push({ message, details }),
      },
    });
    await pay(world, "KWD", 1_000n, "k1");
    world.clock.set(new Date(T0.getTime() + 2 * DAY));
    const file = [
      HEADER,
      row("fake_a", "charge", 1n, 0n, 1n, "USD"),
      row("fake_b", "charge", 2n, 0n, 2n, "USD"),
    ].join("\n");
    const { run } = await world.system.reconcile({
      provider: "fake",
      period: PERIOD,
      source: { format: "sandbox_csv", file: stream(file) },
    });
    await world.work();
    await world.work();
    const alerts = warnings.filter((w) => w.message.startsWith("alert: Reconciliation fake 2026-03-01"));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.message).toMatch(/4 discrepancies/);
    expect(alerts[0]?.details).toMatchObject({
      alertId: `reconciliation:${run.id}`,
      kind: "reconciliation.discrepancies",
      severity: "critical",
      summary: expect.stringMatching(/missing_in_ledger USD: 2/),
    });
  });
  it("never books a record twice: a corrected file that changes a booked fee is a fee_mismatch and posts nothing", async () => {
    const world = makeWorld();
    const a = await pay(world, "USD", 10_000n, "k1");
    world.clock.set(new Date(T0.getTime() + 2 * DAY));
    const first = [HEADER, row(a.ref, "charge", 10_000n, 320n, 9_680n, "USD")].join("\n");
    const changed = [HEADER, row(a.ref, "charge", 10_000n, 330n, 9_670n, "USD")].join("\n");
    await world.system.reconcile({
      provider: "fake",
      period: PERIOD,
      source: { format: "sandbox_csv", file: stream(first) },
    });
    const journals = await world.store.inspect.count("journals");
    const { run } = await world.system.reconcile({
      provider: "fake",
      period: PERIOD,
      source: { format: "sandbox_csv", file: stream(changed) },
    });
    const [item] = (await world.system.listReconciliationItems(run.id)).data;
    expect(item).toMatchObject({ class: "fee_mismatch", fee: 330n });
    expect(run).toMatchObject({ discrepancyCount: 2, anomaly: "nothing_matched" });
    expect(item?.bookingReference).toBeUndefined();
    expect(item?.message).toMatch(
      /settlement:fake:.* was booked with another fee by an earlier file; not booked again/,
    );
    expect(await world.store.inspect.count("journals")).toBe(journals);
    expect((await world.balances())["platform:psp_fees USD"]).toBe(320n);
  });
});

describe("out-and-back pairs: a refund the ledger has no journal for, going out and coming back", () => {
  const HEADER8 = `${HEADER},reverses`;
  const at = (ms: number) => new Date(PERIOD.from.getTime() + ms).toISOString();
  const line = (ref: string, amount: bigint, when: number, reverses = "") =>
    [ref, "refund", amount, 0n, amount, "USD", at(when), reverses].join(",");
  const day = (n: number) => ({
    from: new Date(PERIOD.from.getTime() + n * DAY),
    to: new Date(PERIOD.to.getTime() + n * DAY),
  });

  async function setUp() {
    const world = makeWorld();
    const p = await pay(world, "USD", 10_000n, "k1");
    const charge = [p.ref, "charge", 10_000n, 0n, 10_000n, "USD", at(HOUR), ""].join(",");
    world.clock.set(new Date(PERIOD.from.getTime() + 5 * DAY));
    const run = async (n: number, lines: string[]) => {
      const { run, replayed } = await world.system.reconcile({
        provider: "fake",
        period: day(n),
        settlementLagMs: 0,
        source: { format: "sandbox_csv", file: stream([HEADER8, ...lines].join("\n")) },
      });
      const items = (await allItems(world, run.id)).filter((i) => i.recordType === "refund");
      return { run, replayed, items, summary: items.map((i) => `${i.amount} ${i.class}`).sort() };
    };
    return { world, charge, run };
  }

  it("a refund settlekit never recorded and its bounce match as a pair whose message names the operator flag", async () => {
    const { charge, run } = await setUp();
    const {
      run: r,
      items,
      summary,
    } = await run(0, [charge, line("re_x", -700n, 2 * HOUR), line("rfb_x", 700n, 3 * HOUR, "re_x")]);
    expect(summary).toEqual(["-700 matched", "700 matched"]);
    for (const i of items) expect(i.message).toContain("refund.external_discrepancy");
    expect(r.discrepancyCount).toBe(0);
  });

  it("pairs over two days: the refund going out waits (pending) until the next day is reconciled, its bounce there matches", async () => {
    const { charge, run } = await setUp();
    const first = await run(0, [charge, line("re_x", -700n, 2 * HOUR)]);
    expect(first.summary).toEqual(["-700 pending"]);
    expect(first.run.discrepancyCount).toBe(0);
    expect(first.items[0]?.journalReference).toBe("pair:back:re_x:USD:700");
    // Waiting for the next day, not for time: the same file again is the same run.
    const replay = await run(0, [charge, line("re_x", -700n, 2 * HOUR)]);
    expect(replay).toMatchObject({ replayed: true, run: { id: first.run.id } });
    const second = await run(1, [line("rfb_x", 700n, DAY + HOUR, "re_x")]);
    expect(second.summary).toEqual(["700 matched"]);
    // The same file again is a fresh run (its pending item came due): now a pair.
    const again = await run(0, [charge, line("re_x", -700n, 2 * HOUR)]);
    expect(again.run.id).not.toBe(first.run.id);
    expect(again.summary).toEqual(["-700 matched"]);
    expect(again.run.discrepancyCount).toBe(0);
  });

  it("either half alone is a discrepancy once the neighbouring day is reconciled: missing_in_ledger", async () => {
    const { charge, run } = await setUp();
    await run(1, []);
    const out = await run(0, [charge, line("re_x", -700n, 2 * HOUR)]);
    expect(out.summary).toEqual(["-700 missing_in_ledger"]);
    const back = await run(2, [
      charge.replace(at(HOUR), at(2 * DAY)),
      line("rfb_y", 500n, 2 * DAY + HOUR, "re_y"),
    ]);
    expect(back.summary).toEqual(["500 missing_in_ledger"]);
    // A different amount back is not the same refund's pair.
    const short = await run(3, [
      line("re_z", -700n, 3 * DAY + HOUR),
      line("rfb_z", 600n, 3 * DAY + 2 * HOUR, "re_z"),
    ]);
    expect(short.summary).toEqual(["-700 pending", "600 missing_in_ledger"]);
  });
});
