import { commissionAndLogistics, EVENT_SCHEMA_VERSION } from "@settlekit/core";
import { afterEach, describe, expect, it } from "vitest";
import type { World } from "./support/world.js";
import { balancesOf, cart, DIALECTS, makeWorld, referenceOf } from "./support/world.js";

/** 10 % commission and a 5.00 USD logistics fee per fulfilled order. */
const fees = commissionAndLogistics({ commissionBasisPoints: 1_000, logistics: { USD: 500n } });

describe.each(DIALECTS)("fulfilment and seller wallets on %s", (dialect) => {
  let world: World;
  afterEach(async () => world?.close());

  const balances = () => balancesOf(world);
  const journalCount = async () =>
    Number((await world.store.knex("settlekit_journals").count({ n: "*" }))[0]!.n);

  /** A paid two-seller payment (S1 100.00, S2 23.45); returns its orders' ids. */
  async function paidPayment(): Promise<{ paymentId: string; s1: string; s2: string }> {
    const created = await world.system.createPayment(cart(), { idempotencyKey: `click-${Math.random()}` });
    await world.sandbox.pay(referenceOf(created.body), { card: "4242 4242 4242 4242" });
    await world.deliver();
    const orders = created.body.orders as { id: string }[];
    return { paymentId: String(created.body.id), s1: orders[0]!.id, s2: orders[1]!.id };
  }

  it("moves the seller's share to available less commission and logistics, once", async () => {
    world = await makeWorld(dialect, { fees });
    const { paymentId, s1 } = await paidPayment();
    expect(await world.system.sellerWallet("S1")).toEqual({
      object: "wallet",
      seller_id: "S1",
      balances: [
        {
          currency: "USD",
          pending: "10000",
          pending_releases: [],
          available: "0",
          held: "0",
          reserved: "0",
          paid_out: "0",
        },
      ],
    });

    const fulfilled = await world.system.fulfilOrder({ paymentOrderId: s1 }, { sellerId: "S1" });
    expect(fulfilled).toMatchObject({ id: s1, status: "fulfilled", seller_id: "S1", amount: "10000" });
    expect(fulfilled.fulfilled_at).toBe(world.clock.now().toISOString());
    expect(await balances()).toEqual({
      "psp:sandbox:receivable USD": 12_345n,
      "seller:S1:pending USD": 0n,
      "seller:S1:available USD": -8_500n,
      "platform:commission USD": -1_000n,
      "platform:logistics USD": -500n,
      "seller:S2:pending USD": -2_345n,
    });
    expect(await world.system.sellerWallet("S1")).toMatchObject({
      balances: [{ currency: "USD", pending: "0", available: "8500" }],
    });
    const journals = await journalCount();
    // Again (a double click on "mark shipped"): the same answer, no second journal.
    expect(await world.system.fulfilOrder({ paymentOrderId: s1 })).toEqual(fulfilled);
    expect(await journalCount()).toBe(journals);

    const listed = await world.system.listSellerOrders("S1", { limit: 1 });
    expect(listed).toMatchObject({
      object: "list",
      has_more: false,
      data: [{ id: s1, status: "fulfilled" }],
    });
    expect(await world.system.listSellerOrders("S1", { statuses: ["succeeded"] })).toMatchObject({
      data: [],
    });
    const payment = await world.system.getPayment(paymentId);
    expect((payment.orders as { status: string }[]).map((o) => o.status)).toEqual(["fulfilled", "succeeded"]);
    const events = await world.store.knex("settlekit_outbox").where({ type: "payment_order.fulfilled" });
    expect(events).toHaveLength(1);
    const payload = events[0].payload; // json on Postgres (parsed by pg), text on SQLite
    expect(typeof payload === "string" ? JSON.parse(payload) : payload).toMatchObject({
      schema_version: EVENT_SCHEMA_VERSION,
      id: s1,
      commission: "1000",
      logistics: "500",
      net: "8500",
    });
  });

  it("charges fees on what is left after an earlier refund, and claws a later refund back from available", async () => {
    world = await makeWorld(dialect, { fees });
    const { s1 } = await paidPayment();
    await world.system.refund({ paymentOrderId: s1, amount: 1_000n }, { idempotencyKey: "r-before" });
    await world.system.fulfilOrder({ paymentOrderId: s1 });
    // Base 9 000: commission 900, logistics 500, net 7 600.
    expect(await world.system.sellerWallet("S1")).toMatchObject({
      balances: [{ currency: "USD", pending: "0", available: "7600" }],
    });
    await world.system.refund({ paymentOrderId: s1, amount: 2_000n }, { idempotencyKey: "r-after" });
    // A clawback of 1 800: the platform gives back its commission in proportion (200 of 900).
    expect(await world.system.sellerWallet("S1")).toMatchObject({
      balances: [{ currency: "USD", pending: "0", available: "5800" }],
    });
    const all = await balances();
    expect(Object.values(all).reduce((a, b) => a + b, 0n)).toBe(0n);
  });

  it("refuses unpaid and fully refunded orders and hides other sellers' orders, changing nothing", async () => {
    world = await makeWorld(dialect, { fees });
    const unpaid = await world.system.createPayment(cart(), { idempotencyKey: "unpaid" });
    const unpaidOrder = (unpaid.body.orders as { id: string }[])[0]!.id;
    await expect(world.system.fulfilOrder({ paymentOrderId: unpaidOrder })).rejects.toMatchObject({
      code: "INVALID_STATE_TRANSITION",
    });
    const { s1, s2 } = await paidPayment();
    await expect(world.system.fulfilOrder({ paymentOrderId: s1 }, { sellerId: "S2" })).rejects.toMatchObject({
      code: "NOT_FOUND",
      param: "payment_order_id",
    });
    await expect(world.system.fulfilOrder({ paymentOrderId: "po_nope" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await world.system.refund({ paymentOrderId: s2 }, { idempotencyKey: "all-of-s2" });
    const before = await balances();
    const journals = await journalCount();
    await expect(world.system.fulfilOrder({ paymentOrderId: s2 })).rejects.toMatchObject({
      code: "INVALID_STATE_TRANSITION",
    });
    expect(await balances()).toEqual(before);
    expect(await journalCount()).toBe(journals);
  });

  it("gives the seller everything without a fee policy", async () => {
    world = await makeWorld(dialect);
    const { s2 } = await paidPayment();
    await world.system.fulfilOrder({ paymentOrderId: s2 });
    expect(await world.system.sellerWallet("S2")).toMatchObject({
      balances: [{ currency: "USD", pending: "0", available: "2345" }],
    });
    expect(await world.system.sellerWallet("S_unknown")).toEqual({
      object: "wallet",
      seller_id: "S_unknown",
      balances: [],
    });
  });
});

describe.each(DIALECTS)("payout holds and refunds after release on %s", (dialect) => {
  let world: World;
  afterEach(async () => world?.close());
  const DAY = 86_400_000;
  const hold = { afterDeliveryMs: 14 * DAY, afterShipmentMs: 30 * DAY };

  async function paidPayment(overrides: Parameters<typeof cart>[0] = {}) {
    const created = await world.system.createPayment(cart(overrides), {
      idempotencyKey: `click-${Math.random()}`,
    });
    await world.sandbox.pay(referenceOf(created.body), { card: "4242 4242 4242 4242" });
    await world.deliver();
    return (created.body.orders as { id: string }[]).map((o) => o.id);
  }
  const ago = (ms: number) => new Date(world.clock.now().getTime() - ms);
  const journal = (reference: string) => world.store.ledger.getJournal(reference);

  it("holds the share in pending with its release date, takes a refund during the hold from pending, and releases once when the hold ends", async () => {
    world = await makeWorld(dialect, { fees, payoutHold: hold });
    const [s1, s2] = await paidPayment();
    world.clock.advance(3_600_000);
    const shipped = await world.system.fulfilOrder({ paymentOrderId: s1!, shippedAt: ago(60_000) });
    expect(shipped).toMatchObject({ status: "fulfilled", released_at: null });
    world.clock.advance(DAY);
    const deliveredAt = ago(60_000);
    const delivered = await world.system.fulfilOrder(
      { paymentOrderId: s1!, deliveredAt },
      { sellerId: "S1" },
    );
    const availableAt = new Date(deliveredAt.getTime() + 14 * DAY).toISOString();
    expect(delivered).toMatchObject({ delivered_at: deliveredAt.toISOString(), available_at: availableAt });
    await world.system.refund({ paymentOrderId: s1!, amount: 1_000n }, { idempotencyKey: "during-hold" });
    expect(await world.system.sellerWallet("S1")).toMatchObject({
      balances: [
        {
          currency: "USD",
          pending: "9000",
          pending_releases: [{ payment_order_id: s1, amount: "9000", available_at: availableAt }],
          available: "0",
        },
      ],
    });
    expect(await journal(`fulfilled:${s1}`)).toBeNull();
    // S2's order, fulfilled without dates: its hold runs from now (as if delivered now).
    await world.system.fulfilOrder({ paymentOrderId: s2! });
    world.clock.advance(14 * DAY);
    // Two passes racing: each order released once.
    const passes = await Promise.all([world.sdk.releaseDueOrders(), world.sdk.releaseDueOrders()]);
    expect(passes.reduce((n, p) => n + p.released, 0)).toBe(2);
    expect(await balancesOf(world)).toMatchObject({
      "seller:S1:pending USD": 0n,
      "seller:S1:available USD": -7_600n, // 9 000 less 900 commission and 500 logistics
      "seller:S2:pending USD": 0n,
    });
    const released = await world.system.getPaymentOrder(s1!);
    expect(released).toMatchObject({
      released_at: world.clock.now().toISOString(),
      available_at: availableAt,
    });
    const types = (await world.store.knex("settlekit_outbox").select("type")).map((r) => r.type);
    expect(types.filter((t) => t === "payment_order.released")).toHaveLength(2);
    expect(Object.values(await balancesOf(world)).reduce((a, b) => a + b, 0n)).toBe(0n);
  });

  it("gives back the JPY commission in proportion over partial refunds after release, exactly", async () => {
    world = await makeWorld(dialect, {
      fees: commissionAndLogistics({ commissionBasisPoints: 1_000, logistics: { JPY: 300n } }),
    });
    const [s1] = await paidPayment({ currency: "JPY", orders: [{ sellerId: "S1", amount: 9_999n }] });
    await world.system.fulfilOrder({ paymentOrderId: s1! });
    // Commission 1 000 (999.9 rounded), logistics 300, net 8 699.
    const returned: bigint[] = [];
    for (const amount of [3_333n, 3_333n, 3_333n]) {
      const refund = await world.sdk.refund(
        { paymentOrderId: s1!, amount },
        { idempotencyKey: `jpy-${returned.length}` },
      );
      const postings = (await journal(`refund:${refund.id}`))?.postings ?? [];
      returned.push(postings.find((p) => p.account === "platform:commission")?.amount ?? 0n);
    }
    expect(returned).toEqual([333n, 333n, 334n]);
    expect(await balancesOf(world)).toMatchObject({
      "platform:commission JPY": 0n,
      "platform:logistics JPY": -300n,
      "seller:S1:available JPY": 300n, // the seller owes the logistics fee: netted by the next payout
    });
  });

  it("splits a KWD refund after release (logistics in proportion too) and reverses it exactly when it bounces", async () => {
    world = await makeWorld(dialect, {
      fees: commissionAndLogistics({ commissionBasisPoints: 1_000, logistics: { KWD: 1_500n } }),
      refundFees: { logistics: "proportional" },
    });
    const [s1] = await paidPayment({ currency: "KWD", orders: [{ sellerId: "S1", amount: 12_347n }] });
    await world.system.fulfilOrder({ paymentOrderId: s1! });
    // 12.347 KWD: commission 1.235, logistics 1.500, net 9.612.
    const released = await balancesOf(world);
    expect(released).toMatchObject({
      "seller:S1:available KWD": -9_612n,
      "platform:commission KWD": -1_235n,
    });
    const refund = await world.sdk.refund(
      { paymentOrderId: s1!, amount: 1_001n },
      { idempotencyKey: "kwd-1" },
    );
    await world.deliver();
    const postings = [...((await journal(`refund:${refund.id}`))?.postings ?? [])]
      .map((p) => `${p.direction} ${p.account} ${p.amount}`)
      .sort();
    expect(postings).toEqual([
      "credit psp:sandbox:receivable 1001",
      "debit platform:commission 100", // floor(1 235 × 1 001 / 12 347)
      "debit platform:logistics 121", // floor(2 735 × 1 001 / 12 347) − 100
      "debit seller:S1:available 780",
    ]);
    world.sandbox.faults.failRefundAfterSuccess(world.sandbox.refunds()[0]!.refundReference);
    await world.deliver();
    expect(await balancesOf(world)).toEqual(released);
  });
});

describe("commissionAndLogistics", () => {
  const order = { currency: "USD" } as Parameters<ReturnType<typeof commissionAndLogistics>>[0];
  it("rounds the commission half up and caps the logistics fee at what is left", () => {
    const policy = commissionAndLogistics({ commissionBasisPoints: 250, logistics: { USD: 500n } });
    expect(policy(order, 10_000n)).toEqual({ commission: 250n, logistics: 500n });
    expect(policy(order, 20n)).toEqual({ commission: 1n, logistics: 19n }); // 0.5 → 1
    expect(policy(order, 19n)).toEqual({ commission: 0n, logistics: 19n }); // 0.475 → 0
    expect(policy({ ...order, currency: "JPY" }, 1_000n)).toEqual({ commission: 25n, logistics: 0n });
  });
  it("rejects impossible settings", () => {
    expect(() => commissionAndLogistics({ commissionBasisPoints: 10_001 })).toThrow(/commissionBasisPoints/);
    expect(() => commissionAndLogistics({ commissionBasisPoints: 1.5 })).toThrow(/commissionBasisPoints/);
    expect(() => commissionAndLogistics({ commissionBasisPoints: 0, logistics: { USD: -1n } })).toThrow(
      /logistics/,
    );
  });
});
