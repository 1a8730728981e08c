import { describe, expect, it } from "vitest";
import type { Payment } from "../../domain/payment.js";
import type { PaymentAttempt } from "../../domain/payment-attempt.js";
import type { PaymentOrder } from "../../domain/payment-order.js";
import type { Refund } from "../../domain/refund.js";
import type { StoredWebhookEvent } from "../../ports/payments.js";
import { at, T0 } from "./fixtures.js";
import type { StoreHarness } from "./harness.js";

export const paymentFixture = (id: string, overrides: Partial<Payment> = {}): Payment => ({
  id,
  buyerId: "B1",
  currency: "USD",
  amount: 12_345n,
  status: "created",
  method: "card",
  pspId: "sandbox",
  pspReference: undefined,
  successUrl: "https://shop.example/payment/done",
  cancelUrl: "https://shop.example/cart",
  attempt: 1,
  redirectUrl: undefined,
  failureReason: undefined,
  refundedAmount: 0n,
  metadata: { cart: "c-1" },
  version: 1,
  createdAt: T0,
  updatedAt: T0,
  expiresAt: at(3_600_000),
  ...overrides,
});

export const attemptFixture = (
  paymentId: string,
  attempt: number,
  overrides: Partial<PaymentAttempt> = {},
): PaymentAttempt => ({
  paymentId,
  attempt,
  pspId: "sandbox",
  pspReference: `ref_${paymentId}_${attempt}`,
  amount: 12_345n,
  currency: "USD",
  status: "requires_payment",
  closedAt: undefined,
  capturedAmount: undefined,
  capturedCurrency: undefined,
  unownedReason: undefined,
  captureRefundStatus: undefined,
  captureRefundReference: undefined,
  version: 1,
  createdAt: T0,
  updatedAt: T0,
  ...overrides,
});

export const orderFixture = (
  id: string,
  paymentId: string,
  sellerId: string,
  amount: bigint,
): PaymentOrder => ({
  id,
  paymentId,
  buyerId: "B1",
  sellerId,
  currency: "USD",
  amount,
  status: "pending",
  refundStatus: "none",
  refundedAmount: 0n,
  failureReason: undefined,
  payoutReference: undefined,
  metadata: {},
  version: 1,
  createdAt: T0,
  updatedAt: T0,
  fulfilledAt: undefined,
  shippedAt: undefined,
  deliveredAt: undefined,
  availableAt: undefined,
  releasedAt: undefined,
  paidOutAt: undefined,
});

export const refundFixture = (id: string, overrides: Partial<Refund> = {}): Refund => ({
  id,
  paymentId: "pay_1",
  paymentOrderId: "po_1",
  amount: 500n,
  currency: "USD",
  status: "pending",
  pspRefundReference: undefined,
  reason: "damaged",
  failureReason: undefined,
  version: 1,
  createdAt: T0,
  updatedAt: T0,
  ...overrides,
});

const webhookFixture = (
  eventId: string,
  overrides: Partial<StoredWebhookEvent> = {},
): StoredWebhookEvent => ({
  pspId: "sandbox",
  eventId,
  payload: { kind: "payment", status: "succeeded", amount: "12345" },
  status: "processed",
  attempts: 1,
  lastError: null,
  receivedAt: T0,
  processedAt: T0,
  ...overrides,
});

/** Payments, payment orders, refunds and webhook events. */
export function paymentsSuite(current: () => StoreHarness, concurrency: number): void {
  describe("payments and payment orders", () => {
    const seed = (h: StoreHarness, id = "pay_1") =>
      h.store.transaction(async (tx) => {
        await tx.payments.insert(paymentFixture(id));
        await tx.paymentOrders.insertMany([
          orderFixture(`${id}_po_1`, id, "S1", 10_000n),
          orderFixture(`${id}_po_2`, id, "S2", 2_345n),
        ]);
      });

    it("stores a payment with its orders and reads them back exactly", async () => {
      const h = current();
      await seed(h);
      expect(await h.store.transaction((tx) => tx.payments.get("pay_1"))).toEqual(paymentFixture("pay_1"));
      const orders = await h.store.transaction((tx) => tx.paymentOrders.listByPayment("pay_1"));
      expect(orders).toEqual([
        orderFixture("pay_1_po_1", "pay_1", "S1", 10_000n),
        orderFixture("pay_1_po_2", "pay_1", "S2", 2_345n),
      ]);
      expect(await h.store.transaction((tx) => tx.payments.get("nope"))).toBeNull();
      const paid = {
        ...paymentFixture("pay_1"),
        status: "succeeded" as const,
        estimatedDeliveryAt: at(86_400_000),
        version: 2,
      };
      expect(await h.store.transaction((tx) => tx.payments.update(paid))).toBe(true);
      expect(await h.store.transaction((tx) => tx.payments.get("pay_1"))).toEqual(paid);
    });

    it("keeps each order's description and a review's reported money exactly", async () => {
      const h = current();
      const orders = [
        { ...orderFixture("pay_d_po_1", "pay_d", "S1", 10_000n), description: "Teapot, cast iron — 1 l" },
        orderFixture("pay_d_po_2", "pay_d", "S2", 2_345n),
      ];
      await h.store.transaction(async (tx) => {
        await tx.payments.insert(paymentFixture("pay_d"));
        await tx.paymentOrders.insertMany(orders);
      });
      const read = await h.store.transaction((tx) => tx.paymentOrders.listByPayment("pay_d"));
      expect(read.map((o) => o.description)).toEqual(["Teapot, cast iron — 1 l", undefined]);
      expect(read).toEqual(orders);
      const held = {
        ...paymentFixture("pay_d"),
        status: "requires_review" as const,
        reviewReason: "amount_mismatch",
        reportedAmount: 9_223_372_036_854_775_807n,
        reportedCurrency: "usd",
        version: 2,
      };
      expect(await h.store.transaction((tx) => tx.payments.update(held))).toBe(true);
      const back = await h.store.transaction((tx) => tx.payments.get("pay_d"));
      expect(back).toEqual(held);
      expect(back?.reportedAmount).toBe(9_223_372_036_854_775_807n);
      const approved = { ...held, status: "succeeded" as const, version: 3 };
      expect(await h.store.transaction((tx) => tx.payments.update(approved))).toBe(true);
      expect(await h.store.transaction((tx) => tx.payments.get("pay_d"))).toEqual(approved);
      const updated = { ...orders[0]!, status: "succeeded" as const, version: 2 };
      expect(await h.store.transaction((tx) => tx.paymentOrders.updateMany([updated]))).toBe(true);
      expect((await h.store.transaction((tx) => tx.paymentOrders.get("pay_d_po_1")))?.description).toBe(
        "Teapot, cast iron — 1 l",
      );
    });

    it("stores and lists hundreds of orders of one payment in their order", async () => {
      const h = current();
      const orders = Array.from({ length: 250 }, (_, i) =>
        orderFixture(`pay_many_po_${i}`, "pay_many", `S${i}`, BigInt(i + 1)),
      );
      await h.store.transaction(async (tx) => {
        await tx.payments.insert(paymentFixture("pay_many"));
        await tx.paymentOrders.insertMany(orders);
      });
      expect(await h.store.transaction((tx) => tx.paymentOrders.listByPayment("pay_many"))).toEqual(orders);
    });

    it("lists a seller's orders newest first, by status, page by page", async () => {
      const h = current();
      const order = (id: string, paymentId: string, seller: string, minute: number) => ({
        ...orderFixture(id, paymentId, seller, 100n),
        createdAt: at(minute),
        updatedAt: at(minute),
      });
      await h.store.transaction(async (tx) => {
        for (const [id, minute] of [
          ["k1", 1],
          ["k2", 2],
          ["k3", 3],
        ] as const) {
          await tx.payments.insert(paymentFixture(id));
          await tx.paymentOrders.insertMany([
            order(`${id}_a`, id, "S1", minute),
            order(`${id}_b`, id, "S2", minute),
          ]);
        }
        // Same instant as k3's: the id breaks the tie.
        await tx.payments.insert(paymentFixture("k4"));
        await tx.paymentOrders.insertMany([order("k4_a", "k4", "S1", 3)]);
      });
      const succeeded = { ...order("k2_a", "k2", "S1", 2), status: "succeeded" as const, version: 2 };
      expect(await h.store.transaction((tx) => tx.paymentOrders.update(succeeded))).toBe(true);
      const list = (query: { statuses?: ("succeeded" | "pending")[]; beforeId?: string; limit?: number }) =>
        h.store.transaction(async (tx) =>
          (await tx.paymentOrders.listBySeller({ sellerId: "S1", limit: 2, ...query })).map((o) => o.id),
        );
      expect(await list({})).toEqual(["k4_a", "k3_a"]);
      expect(await list({ beforeId: "k3_a" })).toEqual(["k2_a", "k1_a"]);
      expect(await list({ beforeId: "k1_a" })).toEqual([]);
      expect(await list({ statuses: ["succeeded"] })).toEqual(["k2_a"]);
      expect(await list({ statuses: ["pending"], limit: 10 })).toEqual(["k4_a", "k3_a", "k1_a"]);
      expect(
        await h.store.transaction((tx) => tx.paymentOrders.listBySeller({ sellerId: "nobody", limit: 5 })),
      ).toEqual([]);
    });

    it("updates a payment only from the version it was read at (compare-and-set)", async () => {
      const h = current();
      await seed(h);
      const base = paymentFixture("pay_1");
      const a = {
        ...base,
        status: "requires_payment" as const,
        pspReference: "ref_a",
        redirectUrl: "https://psp/a",
        version: 2,
        updatedAt: at(1),
      };
      const b = { ...base, status: "failed" as const, failureReason: "x", version: 2, updatedAt: at(2) };
      expect(await h.store.transaction((tx) => tx.payments.update(a))).toBe(true);
      expect(await h.store.transaction((tx) => tx.payments.update(b))).toBe(false);
      expect(await h.store.transaction((tx) => tx.payments.get("pay_1", { forUpdate: true }))).toEqual(a);
      expect(await h.store.transaction((tx) => tx.payments.findByPspReference("sandbox", "ref_a"))).toEqual(
        a,
      );
      expect(await h.store.transaction((tx) => tx.payments.findByPspReference("stripe", "ref_a"))).toBeNull();
    });

    it(`lets exactly one of ${concurrency} concurrent writers of the same version win`, async () => {
      const h = current();
      await seed(h);
      const results = await Promise.all(
        Array.from({ length: concurrency }, (_, i) =>
          h.store.transaction((tx) =>
            tx.payments.update({
              ...paymentFixture("pay_1"),
              failureReason: `w${i}`,
              version: 2,
              updatedAt: at(i),
            }),
          ),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const stored = await h.store.transaction((tx) => tx.payments.get("pay_1"));
      expect(stored?.failureReason).toBe(`w${results.indexOf(true)}`);
    });

    it("updates an order by compare-and-set and keeps the others", async () => {
      const h = current();
      await seed(h);
      const paid = {
        ...orderFixture("pay_1_po_1", "pay_1", "S1", 10_000n),
        status: "succeeded" as const,
        version: 2,
      };
      expect(await h.store.transaction((tx) => tx.paymentOrders.update(paid))).toBe(true);
      expect(await h.store.transaction((tx) => tx.paymentOrders.update(paid))).toBe(false);
      const fulfilled = {
        ...paid,
        status: "fulfilled" as const,
        fulfilledAt: at(5),
        version: 3,
        refundedAmount: 1n,
        refundStatus: "partially_refunded" as const,
      };
      expect(await h.store.transaction((tx) => tx.paymentOrders.update(fulfilled))).toBe(true);
      expect(await h.store.transaction((tx) => tx.paymentOrders.get("pay_1_po_1"))).toEqual(fulfilled);
      expect((await h.store.transaction((tx) => tx.paymentOrders.get("pay_1_po_2")))?.status).toBe("pending");
    });

    it("stores an order's hold dates and lists due and held orders in release order", async () => {
      const h = current();
      // Six orders of S1 and one of S2: released, due at 10, due at 10 (id after), due at 20,
      // held until 99, held waiting for a date; S2's due at 5; one still `succeeded`.
      const fulfilled = (id: string, sellerId: string, availableAt?: Date, releasedAt?: Date) => ({
        ...orderFixture(id, "pay_h", sellerId, 100n),
        status: "fulfilled" as const,
        fulfilledAt: at(1),
        shippedAt: at(1),
        deliveredAt: at(2),
        availableAt,
        releasedAt,
      });
      const orders = [
        fulfilled("h_released", "S1", at(3), at(3)),
        fulfilled("h_due_b", "S1", at(10)),
        fulfilled("h_due_a", "S1", at(10)),
        fulfilled("h_due_c", "S1", at(20)),
        fulfilled("h_later", "S1", at(99)),
        fulfilled("h_waiting", "S1"),
        fulfilled("h_other", "S2", at(5)),
        { ...orderFixture("h_paid", "pay_h", "S1", 100n), status: "succeeded" as const, availableAt: at(1) },
      ];
      await h.store.transaction(async (tx) => {
        await tx.payments.insert(paymentFixture("pay_h"));
        await tx.paymentOrders.insertMany(orders);
      });
      expect(await h.store.transaction((tx) => tx.paymentOrders.get("h_released"))).toEqual(orders[0]);
      expect(await h.store.transaction((tx) => tx.paymentOrders.get("h_waiting"))).toEqual(orders[5]);
      const ids = (rows: readonly PaymentOrder[]) => rows.map((o) => o.id);
      const due = (now: Date, limit = 10, startingAfter?: { availableAt: Date; id: string }) =>
        h.store.transaction(async (tx) =>
          ids(
            await tx.paymentOrders.listDueForRelease({
              now,
              limit,
              ...(startingAfter ? { startingAfter } : {}),
            }),
          ),
        );
      expect(await due(at(20))).toEqual(["h_other", "h_due_a", "h_due_b", "h_due_c"]);
      expect(await due(at(19))).toEqual(["h_other", "h_due_a", "h_due_b"]);
      expect(await due(at(4))).toEqual([]);
      expect(await due(at(20), 2)).toEqual(["h_other", "h_due_a"]);
      expect(await due(at(20), 2, { availableAt: at(10), id: "h_due_a" })).toEqual(["h_due_b", "h_due_c"]);
      const held = await h.store.transaction((tx) =>
        tx.paymentOrders.listHeldBySeller({ sellerId: "S1", limit: 10 }),
      );
      expect(ids(held)).toEqual(["h_due_a", "h_due_b", "h_due_c", "h_later", "h_waiting"]);
      expect(
        ids(
          await h.store.transaction((tx) => tx.paymentOrders.listHeldBySeller({ sellerId: "S1", limit: 2 })),
        ),
      ).toEqual(["h_due_a", "h_due_b"]);
      // Released: no longer due, no longer held; the dates read back exactly.
      const released = { ...orders[2]!, releasedAt: at(21), version: 2, updatedAt: at(21) };
      expect(await h.store.transaction((tx) => tx.paymentOrders.update(released))).toBe(true);
      expect(await h.store.transaction((tx) => tx.paymentOrders.get("h_due_a"))).toEqual(released);
      expect(await due(at(20))).toEqual(["h_other", "h_due_b", "h_due_c"]);
      const heldAfter = await h.store.transaction((tx) =>
        tx.paymentOrders.listHeldBySeller({ sellerId: "S1", limit: 10 }),
      );
      expect(ids(heldAfter)).toEqual(["h_due_b", "h_due_c", "h_later", "h_waiting"]);
    });

    it("updates several orders by compare-and-set at once, and says when one was stale", async () => {
      const h = current();
      await seed(h);
      const orders = Array.from({ length: 5 }, (_, i) =>
        orderFixture(`pay_m_po_${i}`, "pay_m", `S${i}`, 100n),
      );
      await h.store.transaction(async (tx) => {
        await tx.payments.insert(paymentFixture("pay_m"));
        await tx.paymentOrders.insertMany(orders);
      });
      const paid = orders.map((o, i) => ({
        ...o,
        status: "succeeded" as const,
        refundedAmount: BigInt(i),
        updatedAt: at(i + 1),
        version: 2,
      }));
      expect(await h.store.transaction((tx) => tx.paymentOrders.updateMany(paid))).toBe(true);
      expect(await h.store.transaction((tx) => tx.paymentOrders.listByPayment("pay_m"))).toEqual(paid);
      expect(await h.store.transaction((tx) => tx.paymentOrders.updateMany([]))).toBe(true);
      // One of them stale (already at version 2): false, and the caller's rollback keeps all as they were.
      const fulfilled = paid.map((o) => ({ ...o, status: "fulfilled" as const, version: 3 }));
      const stale = [...fulfilled.slice(0, 4), { ...paid[4]!, failureReason: "late" }];
      await expect(
        h.store.transaction(async (tx) => {
          if (!(await tx.paymentOrders.updateMany(stale))) throw new Error("stale order");
        }),
      ).rejects.toThrow("stale order");
      expect(await h.store.transaction((tx) => tx.paymentOrders.listByPayment("pay_m"))).toEqual(paid);
      // The other payment's orders were never touched.
      expect((await h.store.transaction((tx) => tx.paymentOrders.get("pay_1_po_1")))?.status).toBe("pending");
    });

    it("lists stale payments for the sweeper and buyers' payments newest first", async () => {
      const h = current();
      await h.store.transaction(async (tx) => {
        await tx.payments.insert(
          paymentFixture("c1", { status: "processing", updatedAt: at(0), createdAt: at(0) }),
        );
        await tx.payments.insert(
          paymentFixture("c2", { status: "requires_payment", updatedAt: at(10), createdAt: at(10) }),
        );
        await tx.payments.insert(
          paymentFixture("c3", { status: "succeeded", updatedAt: at(5), createdAt: at(5) }),
        );
        await tx.payments.insert(
          paymentFixture("c4", {
            status: "processing",
            updatedAt: at(100),
            createdAt: at(100),
            buyerId: "B2",
          }),
        );
      });
      const stale = (now: Date) =>
        h.store.transaction((tx) =>
          tx.payments.listStale({
            statuses: ["requires_payment", "processing"],
            updatedBefore: at(50),
            now,
            limit: 10,
          }),
        );
      expect((await stale(at(60))).map((c) => c.id)).toEqual(["c1", "c2"]);
      // A deferred check hides the payment until then; a change of the payment clears it.
      await h.store.transaction((tx) => tx.payments.deferCheck("c1", at(1_000)));
      expect((await stale(at(999))).map((c) => c.id)).toEqual(["c2"]);
      expect((await stale(at(1_000))).map((c) => c.id)).toEqual(["c1", "c2"]);
      await h.store.transaction((tx) => tx.payments.deferCheck("c2", at(1_000)));
      const c2 = paymentFixture("c2", {
        status: "requires_payment",
        updatedAt: at(20),
        createdAt: at(10),
        version: 2,
      });
      expect(await h.store.transaction((tx) => tx.payments.update(c2))).toBe(true);
      expect((await stale(at(60))).map((c) => c.id)).toEqual(["c2"]);
      const mine = await h.store.transaction((tx) => tx.payments.list({ buyerId: "B1", limit: 2 }));
      expect(mine.map((c) => c.id)).toEqual(["c2", "c3"]);
      const next = await h.store.transaction((tx) =>
        tx.payments.list({ buyerId: "B1", limit: 2, beforeId: "c3" }),
      );
      expect(next.map((c) => c.id)).toEqual(["c1"]);
      const processing = await h.store.transaction((tx) =>
        tx.payments.list({ status: "processing", limit: 10 }),
      );
      expect(processing.map((c) => c.id)).toEqual(["c4", "c1"]);
    });

    it("writes nothing of a payment, its orders, a refund and a webhook event when the transaction throws", async () => {
      const h = current();
      await expect(
        h.store.transaction(async (tx) => {
          await tx.payments.insert(paymentFixture("pay_x"));
          await tx.paymentOrders.insertMany([orderFixture("po_x", "pay_x", "S1", 12_345n)]);
          await tx.refunds.insert(refundFixture("rf_x", { paymentId: "pay_x", paymentOrderId: "po_x" }));
          await tx.webhookEvents.insert(webhookFixture("evt_x"));
          throw new Error("crash");
        }),
      ).rejects.toThrow("crash");
      for (const table of ["payments", "payment_orders", "refunds", "webhook_events"] as const) {
        expect(await h.inspect.count(table), table).toBe(0);
      }
    });
  });

  describe("payment attempts", () => {
    it("keeps every attempt: each reference finds its payment, updates are compare-and-set", async () => {
      const h = current();
      await h.store.transaction(async (tx) => {
        await tx.payments.insert(paymentFixture("pay_a", { pspReference: "ref_pay_a_2", attempt: 2 }));
        await tx.payments.insert(paymentFixture("pay_b", { pspReference: "ref_pay_b_1" }));
        await tx.paymentAttempts.insert(attemptFixture("pay_a", 1, { status: "failed", closedAt: at(5) }));
        await tx.paymentAttempts.insert(attemptFixture("pay_a", 2, { createdAt: at(6), updatedAt: at(6) }));
        await tx.paymentAttempts.insert(attemptFixture("pay_b", 1));
      });
      expect(await h.inspect.count("payment_attempts")).toBe(3);
      const byRef = (ref: string, pspId = "sandbox") =>
        h.store.transaction((tx) => tx.payments.findByPspReference(pspId, ref));
      // The current reference and an earlier attempt's both find the payment; another PSP's does not.
      expect((await byRef("ref_pay_a_2"))?.id).toBe("pay_a");
      expect((await byRef("ref_pay_a_1"))?.id).toBe("pay_a");
      expect((await byRef("ref_pay_b_1"))?.id).toBe("pay_b");
      expect(await byRef("ref_pay_a_1", "stripe")).toBeNull();
      expect(await byRef("ref_unknown")).toBeNull();
      const first = await h.store.transaction((tx) =>
        tx.paymentAttempts.findByPspReference("sandbox", "ref_pay_a_1"),
      );
      expect(first).toEqual(attemptFixture("pay_a", 1, { status: "failed", closedAt: at(5) }));
      const big = 9_223_372_036_854_775_807n;
      const captured = attemptFixture("pay_a", 1, {
        status: "succeeded",
        closedAt: at(5),
        capturedAmount: big,
        capturedCurrency: "usd?",
        unownedReason: "superseded",
        captureRefundStatus: "pending",
        captureRefundReference: "re_9",
        version: 2,
        updatedAt: at(9),
      });
      expect(await h.store.transaction((tx) => tx.paymentAttempts.update(captured))).toBe(true);
      expect(await h.store.transaction((tx) => tx.paymentAttempts.update(captured))).toBe(false);
      expect(await h.store.transaction((tx) => tx.paymentAttempts.get("pay_a", 1))).toEqual(captured);
      expect(
        await h.store.transaction((tx) => tx.paymentAttempts.findByCaptureRefundReference("sandbox", "re_9")),
      ).toEqual(captured);
      expect(
        await h.store.transaction((tx) => tx.paymentAttempts.findByCaptureRefundReference("stripe", "re_9")),
      ).toBeNull();
      const listed = await h.store.transaction((tx) => tx.paymentAttempts.listByPayment("pay_a"));
      expect(listed.map((a) => [a.attempt, a.status])).toEqual([
        [1, "succeeded"],
        [2, "requires_payment"],
      ]);
      expect(await h.store.transaction((tx) => tx.paymentAttempts.get("pay_a", 3))).toBeNull();
    });

    it("refuses a second attempt with a reference already taken at the same PSP", async () => {
      const h = current();
      await h.store.transaction(async (tx) => {
        await tx.payments.insert(paymentFixture("pay_a"));
        await tx.paymentAttempts.insert(attemptFixture("pay_a", 1));
      });
      await expect(
        h.store.transaction((tx) =>
          tx.paymentAttempts.insert(attemptFixture("pay_a", 2, { pspReference: "ref_pay_a_1" })),
        ),
      ).rejects.toThrow();
      expect(await h.inspect.count("payment_attempts")).toBe(1);
    });

    it("lists stale pending capture refunds oldest first and lets one caller claim each due check", async () => {
      const h = current();
      const owed = (
        paymentId: string,
        attempt: number,
        ms: number,
        overrides: Partial<PaymentAttempt> = {},
      ) =>
        attemptFixture(paymentId, attempt, {
          status: "succeeded",
          capturedAmount: 12_345n,
          capturedCurrency: "USD",
          unownedReason: "superseded",
          captureRefundStatus: "pending",
          createdAt: at(ms),
          updatedAt: at(ms),
          ...overrides,
        });
      await h.store.transaction(async (tx) => {
        await tx.payments.insert(paymentFixture("pay_a", { pspReference: "ref_pay_a_3", attempt: 3 }));
        await tx.payments.insert(paymentFixture("pay_b", { pspReference: "ref_pay_b_2", attempt: 2 }));
        await tx.paymentAttempts.insert(owed("pay_b", 1, 2));
        await tx.paymentAttempts.insert(owed("pay_a", 2, 2));
        await tx.paymentAttempts.insert(owed("pay_a", 1, 2, { captureRefundReference: "re_a1" }));
        await tx.paymentAttempts.insert(owed("pay_b", 2, 1));
        await tx.paymentAttempts.insert(owed("pay_a", 3, 40));
        await tx.paymentAttempts.insert(
          owed("pay_a", 4, 0, { pspReference: "ref_done", captureRefundStatus: "succeeded" }),
        );
        await tx.paymentAttempts.insert(
          attemptFixture("pay_a", 5, { pspReference: "ref_own", status: "succeeded" }),
        );
      });
      const stale = async (now: Date, limit = 10) =>
        (
          await h.store.transaction((tx) =>
            tx.paymentAttempts.listStaleCaptureRefunds({ updatedBefore: at(30), now, limit }),
          )
        ).map((a) => `${a.paymentId}#${a.attempt}`);
      const claim = (paymentId: string, attempt: number, now: Date, until: Date) =>
        h.store.transaction((tx) =>
          tx.paymentAttempts.claimCaptureRefundCheck({ paymentId, attempt, now, until }),
        );
      expect(await stale(at(50))).toEqual(["pay_b#2", "pay_a#1", "pay_a#2", "pay_b#1"]);
      expect(await stale(at(50), 2)).toEqual(["pay_b#2", "pay_a#1"]);
      const listed = await h.store.transaction((tx) =>
        tx.paymentAttempts.listStaleCaptureRefunds({ updatedBefore: at(30), now: at(50), limit: 2 }),
      );
      expect(listed[1]).toEqual(owed("pay_a", 1, 2, { captureRefundReference: "re_a1" }));
      // Claimed until 1 000: hidden until then, and a second claim before then loses.
      expect(await claim("pay_a", 2, at(50), at(1_000))).toBe(true);
      expect(await claim("pay_a", 2, at(60), at(2_000))).toBe(false);
      expect(await stale(at(999))).toEqual(["pay_b#2", "pay_a#1", "pay_b#1"]);
      expect(await stale(at(1_000))).toEqual(["pay_b#2", "pay_a#1", "pay_a#2", "pay_b#1"]);
      // An update keeps the claim (no version bump from the claim itself); a settled refund, an
      // attempt without one and an unknown attempt are never claimed.
      const a2 = (await h.store.transaction((tx) => tx.paymentAttempts.get("pay_a", 2)))!;
      expect(a2.version).toBe(1);
      expect(
        await h.store.transaction((tx) =>
          tx.paymentAttempts.update({ ...a2, captureRefundReference: "re_a2", version: 2 }),
        ),
      ).toBe(true);
      expect(await stale(at(999))).toEqual(["pay_b#2", "pay_a#1", "pay_b#1"]);
      expect(await claim("pay_a", 4, at(50), at(99))).toBe(false);
      expect(await claim("pay_a", 5, at(50), at(99))).toBe(false);
      expect(await claim("pay_a", 9, at(50), at(99))).toBe(false);
      // Once settled, a claimed refund is neither listed nor claimed again.
      const b2 = (await h.store.transaction((tx) => tx.paymentAttempts.get("pay_b", 2)))!;
      expect(
        await h.store.transaction((tx) =>
          tx.paymentAttempts.update({ ...b2, captureRefundStatus: "succeeded", version: 2 }),
        ),
      ).toBe(true);
      expect(await stale(at(50))).toEqual(["pay_a#1", "pay_b#1"]);
      expect(await claim("pay_b", 2, at(50), at(99))).toBe(false);
      // Concurrent claims of one due check: exactly one wins.
      const claims = await Promise.all([1, 2, 3].map(() => claim("pay_b", 1, at(50), at(500))));
      expect(claims.filter(Boolean)).toHaveLength(1);
    });
  });

  describe("refunds and webhook events", () => {
    it("stores refunds, finds them by PSP reference and updates them by compare-and-set", async () => {
      const h = current();
      await h.store.transaction(async (tx) => {
        await tx.payments.insert(paymentFixture("pay_1"));
        await tx.paymentOrders.insertMany([orderFixture("po_1", "pay_1", "S1", 12_345n)]);
        await tx.refunds.insert(refundFixture("rf_1"));
        await tx.refunds.insert(refundFixture("rf_2", { amount: 7n, createdAt: at(1), updatedAt: at(1) }));
      });
      const done = refundFixture("rf_1", {
        status: "succeeded",
        pspRefundReference: "re_1",
        version: 2,
        updatedAt: at(9),
      });
      expect(await h.store.transaction((tx) => tx.refunds.update(done))).toBe(true);
      expect(await h.store.transaction((tx) => tx.refunds.update(done))).toBe(false);
      expect(await h.store.transaction((tx) => tx.refunds.get("rf_1"))).toEqual(done);
      expect(await h.store.transaction((tx) => tx.refunds.findByPspReference("re_1"))).toEqual(done);
      const listed = await h.store.transaction((tx) => tx.refunds.listByPayment("pay_1"));
      expect(listed.map((r) => [r.id, r.amount])).toEqual([
        ["rf_1", 500n],
        ["rf_2", 7n],
      ]);
    });

    it("lists stale pending refunds oldest first and lets one caller claim each due check", async () => {
      const h = current();
      await h.store.transaction(async (tx) => {
        await tx.payments.insert(paymentFixture("pay_1"));
        await tx.paymentOrders.insertMany([orderFixture("po_1", "pay_1", "S1", 12_345n)]);
        await tx.refunds.insert(refundFixture("rf_b", { amount: 1n, createdAt: at(2), updatedAt: at(2) }));
        await tx.refunds.insert(refundFixture("rf_a", { amount: 2n, createdAt: at(2), updatedAt: at(2) }));
        await tx.refunds.insert(refundFixture("rf_old", { amount: 3n, createdAt: at(1), updatedAt: at(1) }));
        await tx.refunds.insert(
          refundFixture("rf_new", { amount: 4n, createdAt: at(40), updatedAt: at(40) }),
        );
        await tx.refunds.insert(
          refundFixture("rf_done", { amount: 5n, status: "succeeded", createdAt: at(0), updatedAt: at(0) }),
        );
      });
      const stale = (now: Date, limit = 10) =>
        h.store.transaction((tx) => tx.refunds.listStale({ updatedBefore: at(30), now, limit }));
      expect((await stale(at(50))).map((r) => r.id)).toEqual(["rf_old", "rf_a", "rf_b"]);
      expect((await stale(at(50), 2)).map((r) => r.id)).toEqual(["rf_old", "rf_a"]);
      // Claimed until 1 000: hidden until then, and a second claim before then loses.
      expect(
        await h.store.transaction((tx) =>
          tx.refunds.claimCheck({ id: "rf_a", now: at(50), until: at(1_000) }),
        ),
      ).toBe(true);
      expect(
        await h.store.transaction((tx) =>
          tx.refunds.claimCheck({ id: "rf_a", now: at(60), until: at(2_000) }),
        ),
      ).toBe(false);
      expect((await stale(at(999))).map((r) => r.id)).toEqual(["rf_old", "rf_b"]);
      expect((await stale(at(1_000))).map((r) => r.id)).toEqual(["rf_old", "rf_a", "rf_b"]);
      // An update keeps the claim and bumps nothing else; a settled refund is never claimed.
      const a = (await h.store.transaction((tx) => tx.refunds.get("rf_a")))!;
      expect(
        await h.store.transaction((tx) =>
          tx.refunds.update({ ...a, pspRefundReference: "re_a", version: a.version + 1 }),
        ),
      ).toBe(true);
      expect((await stale(at(999))).map((r) => r.id)).toEqual(["rf_old", "rf_b"]);
      expect(
        await h.store.transaction((tx) =>
          tx.refunds.claimCheck({ id: "rf_done", now: at(50), until: at(99) }),
        ),
      ).toBe(false);
      expect(
        await h.store.transaction((tx) =>
          tx.refunds.claimCheck({ id: "rf_none", now: at(50), until: at(99) }),
        ),
      ).toBe(false);
      // Concurrent claims of one due refund: exactly one wins.
      const claims = await Promise.all(
        [1, 2, 3].map(() =>
          h.store.transaction((tx) => tx.refunds.claimCheck({ id: "rf_b", now: at(50), until: at(500) })),
        ),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
    });

    it("lists the refunds sharing one PSP refund reference, oldest first, with their origin", async () => {
      const h = current();
      await h.store.transaction(async (tx) => {
        await tx.payments.insert(paymentFixture("pay_1"));
        await tx.paymentOrders.insertMany([
          orderFixture("po_1", "pay_1", "S1", 10_000n),
          orderFixture("po_2", "pay_1", "S2", 2_345n),
        ]);
        // One external refund spread over both orders (inserted newest first), one of settlekit's.
        await tx.refunds.insert(
          refundFixture("rf_b", {
            paymentOrderId: "po_2",
            pspRefundReference: "re_ext",
            origin: "external",
            createdAt: at(2),
            updatedAt: at(2),
          }),
        );
        await tx.refunds.insert(
          refundFixture("rf_a", {
            pspRefundReference: "re_ext",
            origin: "external",
            createdAt: at(2),
            updatedAt: at(2),
          }),
        );
        await tx.refunds.insert(refundFixture("rf_own", { pspRefundReference: "re_own", createdAt: at(1) }));
      });
      const shared = await h.store.transaction((tx) => tx.refunds.listByPspReference("re_ext"));
      expect(shared.map((r) => [r.id, r.paymentOrderId, r.origin])).toEqual([
        ["rf_a", "po_1", "external"],
        ["rf_b", "po_2", "external"],
      ]);
      const own = await h.store.transaction((tx) => tx.refunds.listByPspReference("re_own"));
      expect(own).toEqual([refundFixture("rf_own", { pspRefundReference: "re_own", createdAt: at(1) })]);
      expect(own[0]?.origin ?? "settlekit").toBe("settlekit");
      expect(await h.store.transaction((tx) => tx.refunds.listByPspReference("re_none"))).toEqual([]);
      // Still one row per order and reference: a second external row for po_1 is refused.
      await expect(
        h.store.transaction((tx) =>
          tx.refunds.insert(refundFixture("rf_c", { pspRefundReference: "re_ext", origin: "external" })),
        ),
      ).rejects.toThrow();
      expect(await h.inspect.count("refunds")).toBe(3);
    });

    it(`dedupes a webhook event delivered ${concurrency} times at once`, async () => {
      const h = current();
      const results = await Promise.all(
        Array.from({ length: concurrency }, () =>
          h.store.transaction((tx) => tx.webhookEvents.insert(webhookFixture("evt_1"))),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await h.inspect.count("webhook_events")).toBe(1);
      expect(await h.store.transaction((tx) => tx.webhookEvents.get("sandbox", "evt_1"))).toEqual(
        webhookFixture("evt_1"),
      );
    });

    it("keeps events for unknown payments pending until a retry processes them", async () => {
      const h = current();
      await h.store.transaction(async (tx) => {
        await tx.webhookEvents.insert(
          webhookFixture("evt_b", { status: "pending", processedAt: null, receivedAt: at(2) }),
        );
        await tx.webhookEvents.insert(
          webhookFixture("evt_a", { status: "pending", processedAt: null, receivedAt: at(1) }),
        );
        await tx.webhookEvents.insert(webhookFixture("evt_c"));
      });
      const pending = await h.store.transaction((tx) => tx.webhookEvents.listPending({ limit: 10 }));
      expect(pending.map((e) => e.eventId)).toEqual(["evt_a", "evt_b"]);
      await h.store.transaction((tx) =>
        tx.webhookEvents.update({
          pspId: "sandbox",
          eventId: "evt_a",
          status: "pending",
          now: at(3),
          error: "unknown payment",
        }),
      );
      expect(await h.store.transaction((tx) => tx.webhookEvents.get("sandbox", "evt_a"))).toMatchObject({
        attempts: 2,
        lastError: "unknown payment",
        processedAt: null,
      });
      await h.store.transaction((tx) =>
        tx.webhookEvents.update({ pspId: "sandbox", eventId: "evt_a", status: "processed", now: at(4) }),
      );
      expect(await h.store.transaction((tx) => tx.webhookEvents.get("sandbox", "evt_a"))).toMatchObject({
        status: "processed",
        attempts: 3,
        lastError: null,
        processedAt: at(4),
      });
      expect(
        (await h.store.transaction((tx) => tx.webhookEvents.listPending({ limit: 10 }))).map(
          (e) => e.eventId,
        ),
      ).toEqual(["evt_b"]);
    });
  });
}
