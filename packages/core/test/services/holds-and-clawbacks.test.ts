import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PaymentSystemOptions } from "../../src/deps.js";
import type { Refund } from "../../src/domain/refund.js";
import { commissionAndLogistics } from "../../src/runtime/fees.js";
import { completeRefund } from "../../src/services/refunds/refunds.js";
import type { World } from "../support/world.js";
import { cart, makeWorld, referenceOf } from "../support/world.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** 10 % commission and a 5.00 USD logistics fee per fulfilled order. */
const fees = commissionAndLogistics({
  commissionBasisPoints: 1_000,
  logistics: { USD: 500n, JPY: 500n, KWD: 1_500n },
});
/** The return window: 14 days after delivery; 30 days after shipment if no delivery is reported. */
const payoutHold = { afterDeliveryMs: 14 * DAY, afterShipmentMs: 30 * DAY };

/** A paid payment (S1 100.00, S2 23.45 unless `orders` says otherwise), its webhooks delivered. */
async function paid(world: World, overrides: Parameters<typeof cart>[0] = {}) {
  const created = await world.system.createPayment(cart(overrides), {
    idempotencyKey: `click-${Math.random()}`,
  });
  await world.psp.pay(referenceOf(created.payment), "succeeded");
  await world.deliver();
  const [s1, s2] = created.payment.orders.map((o) => o.id);
  return { id: created.payment.id, s1: s1!, s2: s2 };
}

const ago = (world: World, ms: number) => new Date(world.clock.now().getTime() - ms);
const journal = (world: World, reference: string) =>
  world.store.transaction((tx) => tx.ledger.getJournal(reference), { readOnly: true });
/** A journal's postings, by account (stores may keep them in any order). */
const postingsOf = async (world: World, reference: string) =>
  [...((await journal(world, reference))?.postings ?? [])].sort((a, b) => a.account.localeCompare(b.account));
const refund = (world: World, paymentOrderId: string, amount?: bigint) =>
  world.system.refund(
    { paymentOrderId, ...(amount !== undefined ? { amount } : {}) },
    { idempotencyKey: `r-${Math.random()}` },
  );
/** The PSP reports a refund that had succeeded as failed after all (a bounced bank refund). */
const bounce = (world: World, refunded: Refund) =>
  world.store.transaction((tx) =>
    completeRefund(world.system.deps, tx, refunded.id, {
      refundReference: refunded.pspRefundReference ?? "bounced",
      status: "failed",
      failureReason: "account_closed",
    }),
  );
/** A refund the PSP confirmed, booked without the PSP (as its webhook would): the property's refunds. */
async function bookRefund(world: World, paymentOrderId: string, amount: bigint): Promise<Refund> {
  const order = await world.system.getPaymentOrder(paymentOrderId);
  const now = world.clock.now();
  const id = `rf_${Math.random().toString(36).slice(2)}`;
  return world.store.transaction(async (tx) => {
    await tx.refunds.insert({
      id,
      paymentId: order.paymentId,
      paymentOrderId,
      amount,
      currency: order.currency,
      status: "pending",
      version: 1,
      createdAt: now,
      updatedAt: now,
    });
    return (await completeRefund(world.system.deps, tx, id, {
      refundReference: `fre_${id}`,
      status: "succeeded",
    }))!;
  });
}

/** Sums every balance per currency: a balanced ledger is zero in each. */
async function sumsPerCurrency(world: World): Promise<Record<string, bigint>> {
  const sums: Record<string, bigint> = {};
  for (const b of await world.store.ledger.listBalances())
    sums[b.currency] = (sums[b.currency] ?? 0n) + b.balance;
  return sums;
}

describe("payout holds (memory store, fake PSP)", () => {
  it("holds the money in pending with its release date until the hold after delivery ends, then releases it once", async () => {
    const world = makeWorld({ fees, payoutHold });
    const { id, s1 } = await paid(world);
    world.clock.advance(2 * HOUR);
    const shippedAt = ago(world, HOUR);
    const shipped = await world.system.fulfilOrder({ paymentOrderId: s1, shippedAt }, { sellerId: "S1" });
    expect(shipped).toMatchObject({
      status: "fulfilled",
      shippedAt,
      deliveredAt: undefined,
      availableAt: new Date(shippedAt.getTime() + 30 * DAY),
      releasedAt: undefined,
    });
    expect(await journal(world, `fulfilled:${s1}`)).toBeNull();
    expect(await world.balances()).toMatchObject({ "seller:S1:pending USD": -10_000n });
    expect((await world.system.sellerWallet("S1")).balances).toEqual([
      {
        currency: "USD",
        pending: 10_000n,
        pendingReleases: [{ paymentOrderId: s1, amount: 10_000n, availableAt: shipped.availableAt }],
        available: 0n,
        held: 0n,
        reserved: 0n,
        paidOut: 0n,
      },
    ]);
    // Two days later the seller reports delivery: the return window now decides.
    world.clock.advance(2 * DAY);
    const deliveredAt = ago(world, HOUR);
    const delivered = await world.system.fulfilOrder({ paymentOrderId: s1, deliveredAt });
    expect(delivered).toMatchObject({
      shippedAt,
      deliveredAt,
      availableAt: new Date(deliveredAt.getTime() + 14 * DAY),
      releasedAt: undefined,
      version: shipped.version + 1,
    });
    // The same report again (a retry): nothing changes.
    expect(await world.system.fulfilOrder({ paymentOrderId: s1, deliveredAt, shippedAt })).toEqual(delivered);
    await expect(
      world.system.fulfilOrder({ paymentOrderId: s1, deliveredAt: ago(world, 2 * HOUR) }),
    ).rejects.toMatchObject({ code: "VALIDATION_FAILED", param: "delivered_at" });
    // Not due yet: a release pass changes nothing.
    world.clock.advance(14 * DAY - 2 * HOUR);
    expect(await world.system.releaseDueOrders()).toEqual({ released: 0, deferred: 0, failed: 0 });
    expect(await journal(world, `fulfilled:${s1}`)).toBeNull();
    // Due: the worker's pass releases it, less commission and logistics.
    world.clock.advance(HOUR);
    await world.work();
    const released = await world.system.getPaymentOrder(s1);
    expect(released.releasedAt).toEqual(world.clock.now());
    expect(await world.balances()).toMatchObject({
      "seller:S1:pending USD": 0n,
      "seller:S1:available USD": -8_500n,
      "platform:commission USD": -1_000n,
      "platform:logistics USD": -500n,
    });
    expect((await world.system.sellerWallet("S1")).balances[0]).toMatchObject({
      pending: 0n,
      pendingReleases: [],
      available: 8_500n,
    });
    expect(await world.system.releaseDueOrders()).toEqual({ released: 0, deferred: 0, failed: 0 });
    expect((await world.outboxTypes(id)).filter((t) => t.startsWith("payment_order."))).toEqual([
      "payment_order.fulfilled",
      "payment_order.released",
    ]);
    await world.work(); // relays what the last pass appended
    const event = world.published.find((e) => e.type === "payment_order.released");
    expect(event?.payload).toMatchObject({ id: s1, commission: "1000", logistics: "500", net: "8500" });
  });

  it("releases at fulfilment without a hold, with both events carrying the fees", async () => {
    const world = makeWorld({ fees });
    const { id, s1 } = await paid(world);
    const fulfilled = await world.system.fulfilOrder({ paymentOrderId: s1 });
    expect(fulfilled).toMatchObject({ availableAt: world.clock.now(), releasedAt: world.clock.now() });
    expect(await world.balances()).toMatchObject({ "seller:S1:available USD": -8_500n });
    await world.work();
    const types = world.published.filter((e) => e.aggregateId === id).map((e) => e.type);
    expect(types.filter((t) => t.startsWith("payment_order."))).toEqual([
      "payment_order.fulfilled",
      "payment_order.released",
    ]);
    expect(world.published.find((e) => e.type === "payment_order.fulfilled")?.payload).toMatchObject({
      commission: "1000",
      net: "8500",
    });
  });

  it("waits for a delivery date when only the return window after delivery is configured", async () => {
    const world = makeWorld({ fees, payoutHold: { afterDeliveryMs: 7 * DAY } });
    const { s1 } = await paid(world);
    const shipped = await world.system.fulfilOrder({ paymentOrderId: s1, shippedAt: ago(world, 0) });
    expect(shipped.availableAt).toBeUndefined();
    expect((await world.system.sellerWallet("S1")).balances[0]?.pendingReleases).toEqual([
      { paymentOrderId: s1, amount: 10_000n, availableAt: null },
    ]);
    world.clock.advance(60 * DAY);
    expect((await world.system.releaseDueOrders()).released).toBe(0);
    // Delivered more than 7 days ago: due at once, released by the report itself.
    const delivered = await world.system.fulfilOrder({
      paymentOrderId: s1,
      deliveredAt: ago(world, 8 * DAY),
    });
    expect(delivered.releasedAt).toEqual(world.clock.now());
    expect(await journal(world, `fulfilled:${s1}`)).not.toBeNull();
  });

  it("takes a host's hold function, and an order fulfilled without dates counts from its fulfilment", async () => {
    const world = makeWorld({
      fees,
      payoutHold: (order) => new Date(order.fulfilledAt!.getTime() + (order.sellerId === "S1" ? 3 * DAY : 0)),
    });
    const { s1, s2 } = await paid(world);
    expect((await world.system.fulfilOrder({ paymentOrderId: s1 })).releasedAt).toBeUndefined();
    expect((await world.system.fulfilOrder({ paymentOrderId: s2! })).releasedAt).toEqual(world.clock.now());
    world.clock.advance(3 * DAY);
    expect(await world.system.releaseDueOrders()).toMatchObject({ released: 1 });

    const dated = makeWorld({ fees, payoutHold: { afterDeliveryMs: DAY } });
    const order = await paid(dated);
    const fulfilled = await dated.system.fulfilOrder({ paymentOrderId: order.s1 });
    expect(fulfilled.availableAt).toEqual(new Date(dated.clock.now().getTime() + DAY));
  });

  it("refuses dates in the future, before the payment, or a delivery before the shipment", async () => {
    const world = makeWorld({ fees, payoutHold });
    const { s1 } = await paid(world);
    world.clock.advance(HOUR);
    const cases: [Record<string, Date>, string][] = [
      [{ shippedAt: new Date(world.clock.now().getTime() + 1) }, "shipped_at"],
      [{ deliveredAt: new Date(world.clock.now().getTime() + DAY) }, "delivered_at"],
      [{ shippedAt: ago(world, 2 * HOUR) }, "shipped_at"],
      [{ shippedAt: ago(world, 60_000), deliveredAt: ago(world, 120_000) }, "delivered_at"],
      [{ shippedAt: new Date(Number.NaN) }, "shipped_at"],
    ];
    for (const [dates, param] of cases) {
      await expect(world.system.fulfilOrder({ paymentOrderId: s1, ...dates })).rejects.toMatchObject({
        code: "VALIDATION_FAILED",
        param,
      });
    }
    expect((await world.system.getPaymentOrder(s1)).status).toBe("succeeded");
    await expect(world.system.fulfilOrder({ paymentOrderId: s1 }, { sellerId: "S2" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("takes a refund during the hold from pending, charges fees on the rest at release, and releases a fully refunded order without a journal", async () => {
    const world = makeWorld({ fees, payoutHold });
    const { s1, s2 } = await paid(world);
    await world.system.fulfilOrder({ paymentOrderId: s1, deliveredAt: ago(world, 0) });
    await world.system.fulfilOrder({ paymentOrderId: s2!, deliveredAt: ago(world, 0) });
    const partial = await refund(world, s1, 2_000n);
    expect(await postingsOf(world, `refund:${partial.id}`)).toEqual([
      { account: "psp:fake:receivable", currency: "USD", direction: "credit", amount: 2_000n },
      { account: "seller:S1:pending", currency: "USD", direction: "debit", amount: 2_000n },
    ]);
    await refund(world, s2!);
    expect((await world.system.sellerWallet("S1")).balances[0]?.pendingReleases).toEqual([
      { paymentOrderId: s1, amount: 8_000n, availableAt: new Date(world.clock.now().getTime() + 14 * DAY) },
    ]);
    world.clock.advance(14 * DAY);
    expect(await world.system.releaseDueOrders()).toEqual({ released: 2, deferred: 0, failed: 0 });
    expect(await world.balances()).toMatchObject({
      "seller:S1:pending USD": 0n,
      "seller:S1:available USD": -6_700n, // 8 000 less 800 commission and 500 logistics
      "platform:commission USD": -800n,
      "platform:logistics USD": -500n,
      "seller:S2:pending USD": 0n,
    });
    expect(await journal(world, `fulfilled:${s2}`)).toBeNull();
    expect((await world.system.getPaymentOrder(s2!)).releasedAt).toEqual(world.clock.now());
  });

  it("defers the release of a due order while a refund of it is pending at the PSP", async () => {
    const world = makeWorld({ fees, payoutHold });
    const { id, s1 } = await paid(world);
    await world.system.fulfilOrder({ paymentOrderId: s1, deliveredAt: ago(world, 0) });
    const now = world.clock.now();
    const pending: Refund = {
      id: "rf_pending",
      paymentId: id,
      paymentOrderId: s1,
      amount: 1_000n,
      currency: "USD",
      status: "pending",
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    await world.store.transaction((tx) => tx.refunds.insert(pending));
    world.clock.advance(15 * DAY);
    expect(await world.system.releaseDueOrders()).toEqual({ released: 0, deferred: 1, failed: 0 });
    expect(await journal(world, `fulfilled:${s1}`)).toBeNull();
    // The refund succeeds (from pending: the order is not released yet); the next pass releases the rest.
    await world.store.transaction((tx) =>
      completeRefund(world.system.deps, tx, pending.id, { refundReference: "fre_x", status: "succeeded" }),
    );
    expect(await world.system.releaseDueOrders()).toEqual({ released: 1, deferred: 0, failed: 0 });
    expect(await world.balances()).toMatchObject({
      "seller:S1:pending USD": 0n,
      "seller:S1:available USD": -7_600n, // 9 000 less 900 and 500
    });
  });

  it("releases each order once when several release passes race", async () => {
    const world = makeWorld({ fees, payoutHold });
    const orders: string[] = [];
    for (let i = 0; i < 5; i++) orders.push((await paid(world)).s1);
    for (const o of orders) await world.system.fulfilOrder({ paymentOrderId: o, deliveredAt: ago(world, 0) });
    world.clock.advance(14 * DAY);
    const results = await Promise.all([1, 2, 3].map(() => world.system.releaseDueOrders({ limit: 2 })));
    expect(results.reduce((sum, r) => sum + r.released, 0)).toBe(5);
    expect(await world.balances()).toMatchObject({ "seller:S1:available USD": -42_500n });
  });
});

describe("refunds after release: clawbacks and the fee split (memory store, fake PSP)", () => {
  it("claws the seller's share back from available and gives back the commission in proportion, exactly over partial refunds (JPY)", async () => {
    const world = makeWorld({ fees });
    const { s1 } = await paid(world, { currency: "JPY", orders: [{ sellerId: "S1", amount: 10_001n }] });
    await world.system.fulfilOrder({ paymentOrderId: s1 });
    // Commission 1 000 (10 % of 10 001, rounded), logistics 500 kept.
    expect(await world.balances()).toMatchObject({
      "seller:S1:available JPY": -8_501n,
      "platform:commission JPY": -1_000n,
    });
    const splits: bigint[] = [];
    for (const amount of [3_333n, 3_333n, 3_335n]) {
      const r = await refund(world, s1, amount);
      const postings = (await journal(world, `refund:${r.id}`))!.postings;
      splits.push(postings.find((p) => p.account === "platform:commission")?.amount ?? 0n);
    }
    expect(splits).toEqual([333n, 333n, 334n]);
    expect(await world.balances()).toMatchObject({
      "seller:S1:available JPY": 500n, // a clawback: the seller owes the kept logistics fee
      "platform:commission JPY": 0n,
      "platform:logistics JPY": -500n,
      "psp:fake:receivable JPY": 0n,
    });
    expect((await world.system.sellerWallet("S1")).balances[0]?.available).toBe(-500n);
    expect(await sumsPerCurrency(world)).toEqual({ JPY: 0n });
  });

  it("splits KWD (3 decimals) refunds exactly, with the logistics fee refunded in proportion when the policy says so", async () => {
    const world = makeWorld({ fees, refundFees: { logistics: "proportional" } });
    const { s1 } = await paid(world, { currency: "KWD", orders: [{ sellerId: "S1", amount: 12_347n }] });
    await world.system.fulfilOrder({ paymentOrderId: s1 });
    // 12.347 KWD: commission 1.235, logistics 1.500, net 9.612.
    expect(await world.balances()).toMatchObject({
      "seller:S1:available KWD": -9_612n,
      "platform:commission KWD": -1_235n,
      "platform:logistics KWD": -1_500n,
    });
    const first = await refund(world, s1, 1_001n);
    expect(await postingsOf(world, `refund:${first.id}`)).toEqual([
      { account: "platform:commission", currency: "KWD", direction: "debit", amount: 100n },
      { account: "platform:logistics", currency: "KWD", direction: "debit", amount: 121n },
      { account: "psp:fake:receivable", currency: "KWD", direction: "credit", amount: 1_001n },
      { account: "seller:S1:available", currency: "KWD", direction: "debit", amount: 780n },
    ]);
    await refund(world, s1, 7n);
    await refund(world, s1, 5_000n);
    await refund(world, s1);
    expect(await world.balances()).toMatchObject({
      "seller:S1:available KWD": 0n,
      "platform:commission KWD": 0n,
      "platform:logistics KWD": 0n,
    });
  });

  it("keeps all fees with refundFees keep/keep: the seller bears the whole refund", async () => {
    const world = makeWorld({ fees, refundFees: { commission: "keep", logistics: "keep" } });
    const { s1 } = await paid(world);
    await world.system.fulfilOrder({ paymentOrderId: s1 });
    await refund(world, s1, 5_000n);
    expect(await world.balances()).toMatchObject({
      "seller:S1:available USD": -3_500n,
      "platform:commission USD": -1_000n,
      "platform:logistics USD": -500n,
    });
  });

  it("reverses a bounced clawback refund exactly as its journal posted it, and the next refund splits as if it never happened", async () => {
    const world = makeWorld({ fees });
    const { s1 } = await paid(world);
    await world.system.fulfilOrder({ paymentOrderId: s1 });
    const first = await refund(world, s1, 3_333n);
    const posted = await postingsOf(world, `refund:${first.id}`);
    expect(posted.find((p) => p.account === "platform:commission")?.amount).toBe(333n);
    await bounce(world, first);
    const flip = (d: string) => (d === "debit" ? "credit" : "debit");
    expect(await postingsOf(world, `refund-reversal:${first.id}`)).toEqual(
      posted.map((p) => ({ ...p, direction: flip(p.direction) })),
    );
    expect(await world.balances()).toMatchObject({
      "seller:S1:available USD": -8_500n,
      "platform:commission USD": -1_000n,
    });
    const second = await refund(world, s1, 3_333n);
    expect(
      (await journal(world, `refund:${second.id}`))!.postings.find((p) => p.account === "platform:commission")
        ?.amount,
    ).toBe(333n);
    // (The fake PSP counts the bounced refund as refunded: 3 334 is what it has left.)
    const third = await refund(world, s1, 3_334n);
    expect(
      (await postingsOf(world, `refund:${third.id}`)).find((p) => p.account === "platform:commission")
        ?.amount,
    ).toBe(333n); // floor(1 000 × 6 667 / 10 000) − 333
    expect(await world.balances()).toMatchObject({
      "platform:commission USD": -334n,
      "seller:S1:available USD": -2_499n,
    });
  });

  it("puts a refund made during the hold back to pending when it bounces before the release", async () => {
    const world = makeWorld({ fees, payoutHold });
    const { s1 } = await paid(world);
    await world.system.fulfilOrder({ paymentOrderId: s1, deliveredAt: ago(world, 0) });
    const during = await refund(world, s1, 1_000n);
    await bounce(world, during);
    expect(await world.balances()).toMatchObject({ "seller:S1:pending USD": -10_000n });
    world.clock.advance(14 * DAY);
    await world.system.releaseDueOrders();
    expect(await world.balances()).toMatchObject({ "seller:S1:available USD": -8_500n });
  });

  it("property: random partial refunds before and after release (some bouncing) give back exactly the fees per policy, and every currency balances", async () => {
    const currencies = ["USD", "JPY", "KWD"] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          currency: fc.constantFrom(...currencies),
          amount: fc.bigInt({ min: 1n, max: 5_000_000n }),
          bps: fc.integer({ min: 0, max: 10_000 }),
          logistics: fc.bigInt({ min: 0n, max: 200_000n }),
          commission: fc.constantFrom("proportional" as const, "keep" as const),
          logisticsPolicy: fc.constantFrom("proportional" as const, "keep" as const),
          before: fc.array(fc.integer({ min: 1, max: 1_000 }), { maxLength: 3 }),
          after: fc.array(fc.record({ part: fc.integer({ min: 1, max: 1_000 }), bounce: fc.boolean() }), {
            maxLength: 6,
          }),
          finish: fc.boolean(),
          bounceBefore: fc.boolean(),
        }),
        async (c) => {
          const policy = commissionAndLogistics({
            commissionBasisPoints: c.bps,
            logistics: { [c.currency]: c.logistics },
          });
          const options: Partial<PaymentSystemOptions> = {
            fees: policy,
            payoutHold,
            refundFees: { commission: c.commission, logistics: c.logisticsPolicy },
          };
          const world = makeWorld(options);
          const { s1 } = await paid(world, {
            currency: c.currency,
            orders: [{ sellerId: "S1", amount: c.amount }],
          });
          await world.system.fulfilOrder({ paymentOrderId: s1, deliveredAt: ago(world, 0) });
          const left = async () => {
            const o = await world.system.getPaymentOrder(s1);
            return o.amount - o.refundedAmount;
          };
          const part = async (per: number) => {
            const rest = await left();
            const amount = (rest * BigInt(per)) / 2_000n;
            return amount > 0n ? amount : rest > 0n ? 1n : 0n;
          };
          const during: Refund[] = [];
          for (const per of c.before) {
            const amount = await part(per);
            if (amount > 0n) during.push(await bookRefund(world, s1, amount));
          }
          world.clock.advance(14 * DAY);
          await world.system.releaseDueOrders();
          // A refund made during the hold bouncing after the release: back to available, the
          // fees on it topped up (the base grows by it).
          const bounced = c.bounceBefore ? during[0] : undefined;
          if (bounced) await bounce(world, bounced);
          const base = await left();
          const fulfilled = await journal(world, `fulfilled:${s1}`);
          const topUp = bounced ? await journal(world, `refund-reversal:${bounced.id}`) : null;
          const credit = (account: string) =>
            [...(fulfilled?.postings ?? []), ...(topUp?.postings ?? [])]
              .filter((p) => p.account === account && p.direction === "credit")
              .reduce((sum, p) => sum + p.amount, 0n);
          const commission = credit("platform:commission");
          const logistics = credit("platform:logistics");
          for (const step of c.after) {
            const amount = await part(step.part);
            if (amount === 0n) continue;
            const r = await bookRefund(world, s1, amount);
            if (step.bounce) await bounce(world, r);
          }
          if (c.finish && (await left()) > 0n) await bookRefund(world, s1, await left());
          const refundedAfter = base - (await left());
          const balances = await world.balances();
          const kept = (account: string) => -(balances[`${account} ${c.currency}`] ?? 0n);
          const proportional =
            (c.commission === "proportional" ? commission : 0n) +
            (c.logisticsPolicy === "proportional" ? logistics : 0n);
          const givenBack = base > 0n ? (proportional * refundedAfter) / base : 0n;
          const commissionBack =
            c.commission === "proportional" && base > 0n ? (commission * refundedAfter) / base : 0n;
          expect(kept("platform:commission")).toBe(commission - commissionBack);
          expect(kept("platform:logistics")).toBe(logistics - (givenBack - commissionBack));
          expect(kept("seller:S1:available")).toBe(
            base - commission - logistics - (refundedAfter - givenBack),
          );
          if (refundedAfter === base && base > 0n) {
            if (c.commission === "proportional") expect(kept("platform:commission")).toBe(0n);
            if (c.logisticsPolicy === "proportional") expect(kept("platform:logistics")).toBe(0n);
          }
          expect(await sumsPerCurrency(world)).toEqual({ [c.currency]: 0n });
        },
      ),
      { numRuns: process.env.CI ? 500 : 100 },
    );
  }, 120_000);
});
