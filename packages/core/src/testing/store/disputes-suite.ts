import { describe, expect, it } from "vitest";
import type { Dispute } from "../../domain/dispute.js";
import { at, T0 } from "./fixtures.js";
import type { StoreHarness } from "./harness.js";
import { orderFixture, paymentFixture } from "./payments-suite.js";

export const disputeFixture = (id: string, overrides: Partial<Dispute> = {}): Dispute => ({
  id,
  paymentId: "pay_d",
  pspId: "sandbox",
  pspDisputeReference: `psp_${id}`,
  pspReference: "sbx_pay_1",
  amount: 12_345n,
  currency: "USD",
  amountWithdrawn: 0n,
  fee: 0n,
  amountReinstated: 0n,
  feeReturned: 0n,
  feeBearer: "seller",
  reason: "fraudulent",
  status: "needs_response",
  evidenceDueBy: at(7 * 86_400_000),
  allocations: [
    { paymentOrderId: "pay_d_po_1", sellerId: "S1", amount: 10_000n, fee: 0n },
    { paymentOrderId: "pay_d_po_2", sellerId: "S2", amount: 2_345n, fee: 0n },
  ],
  fundsWithdrawnAt: undefined,
  fundsReinstatedAt: undefined,
  version: 1,
  createdAt: T0,
  updatedAt: T0,
  ...overrides,
});

/** Disputes: exact read-back, uniqueness per PSP, compare-and-set, newest-first paging. */
export function disputesSuite(current: () => StoreHarness, concurrency: number): void {
  describe("disputes", () => {
    const seed = (h: StoreHarness) =>
      h.store.transaction(async (tx) => {
        await tx.payments.insert(paymentFixture("pay_d", { status: "succeeded", pspReference: "sbx_pay_1" }));
        await tx.paymentOrders.insertMany([
          orderFixture("pay_d_po_1", "pay_d", "S1", 10_000n),
          orderFixture("pay_d_po_2", "pay_d", "S2", 2_345n),
        ]);
      });

    it("stores a dispute and reads it back exactly, by id and by the PSP's reference", async () => {
      const h = current();
      await seed(h);
      const huge = 9_007_199_254_740_993n; // beyond 2^53: must not pass through a double
      const dispute = disputeFixture("dp_1", {
        amount: huge,
        amountWithdrawn: huge,
        fee: 1_500n,
        allocations: [{ paymentOrderId: "pay_d_po_1", sellerId: "S1", amount: huge, fee: 1_500n }],
        fundsWithdrawnAt: at(1_000),
      });
      await h.store.transaction((tx) => tx.disputes.insert(dispute));
      expect(await h.inspect.count("disputes")).toBe(1);
      expect(await h.store.transaction((tx) => tx.disputes.get("dp_1"))).toEqual(dispute);
      expect(
        await h.store.transaction((tx) =>
          tx.disputes.findByPspReference("sandbox", "psp_dp_1", { forUpdate: true }),
        ),
      ).toEqual(dispute);
      expect(
        await h.store.transaction((tx) => tx.disputes.findByPspReference("stripe", "psp_dp_1")),
      ).toBeNull();
      expect(await h.store.transaction((tx) => tx.disputes.get("nope"))).toBeNull();
      const bare = disputeFixture("dp_2", {
        reason: undefined,
        evidenceDueBy: undefined,
        feeBearer: "platform",
      });
      await h.store.transaction((tx) => tx.disputes.insert(bare));
      expect(await h.store.transaction((tx) => tx.disputes.get("dp_2"))).toEqual(bare);
      expect(
        (await h.store.transaction((tx) => tx.disputes.listByPayment("pay_d"))).map((d) => d.id),
      ).toEqual(["dp_1", "dp_2"]);
    });

    it("refuses a second dispute with the same PSP reference, and nothing of it is written", async () => {
      const h = current();
      await seed(h);
      await h.store.transaction((tx) => tx.disputes.insert(disputeFixture("dp_1")));
      await expect(
        h.store.transaction((tx) =>
          tx.disputes.insert(disputeFixture("dp_other", { pspDisputeReference: "psp_dp_1" })),
        ),
      ).rejects.toThrow();
      expect(await h.inspect.count("disputes")).toBe(1);
      // Another PSP may use the same reference.
      await h.store.transaction((tx) =>
        tx.disputes.insert(disputeFixture("dp_stripe", { pspId: "stripe", pspDisputeReference: "psp_dp_1" })),
      );
      expect(await h.inspect.count("disputes")).toBe(2);
    });

    it("updates by compare-and-set: of concurrent writers from one version exactly one wins", async () => {
      const h = current();
      await seed(h);
      await h.store.transaction((tx) => tx.disputes.insert(disputeFixture("dp_1")));
      const writers = Array.from({ length: Math.min(concurrency, 16) }, (_, i) =>
        h.store.transaction((tx) =>
          tx.disputes.update(
            disputeFixture("dp_1", {
              status: "under_review",
              reason: `writer-${i}`,
              version: 2,
              updatedAt: at(i + 1),
            }),
          ),
        ),
      );
      const results = await Promise.all(writers);
      expect(results.filter(Boolean)).toHaveLength(1);
      const stored = await h.store.transaction((tx) => tx.disputes.get("dp_1"));
      expect(stored).toMatchObject({ status: "under_review", version: 2 });
      expect(await h.store.transaction((tx) => tx.disputes.update({ ...stored!, version: 2 }))).toBe(false);
      const won = {
        ...stored!,
        status: "won" as const,
        amountReinstated: 12_345n,
        version: 3,
        fundsReinstatedAt: at(9),
      };
      expect(await h.store.transaction((tx) => tx.disputes.update(won))).toBe(true);
      expect(await h.store.transaction((tx) => tx.disputes.get("dp_1"))).toEqual(won);
    });

    it("lists newest first, by status, and pages after a dispute", async () => {
      const h = current();
      await seed(h);
      await h.store.transaction(async (tx) => {
        for (let i = 0; i < 5; i++) {
          await tx.disputes.insert(
            disputeFixture(`dp_${i}`, { createdAt: at(i * 1_000), status: i % 2 ? "won" : "needs_response" }),
          );
        }
      });
      const ids = (list: Dispute[]) => list.map((d) => d.id);
      expect(ids(await h.store.transaction((tx) => tx.disputes.list({ limit: 10 })))).toEqual([
        "dp_4",
        "dp_3",
        "dp_2",
        "dp_1",
        "dp_0",
      ]);
      expect(
        ids(await h.store.transaction((tx) => tx.disputes.list({ limit: 2, beforeId: "dp_3" }))),
      ).toEqual(["dp_2", "dp_1"]);
      expect(
        ids(await h.store.transaction((tx) => tx.disputes.list({ limit: 10, statuses: ["won"] }))),
      ).toEqual(["dp_3", "dp_1"]);
    });
  });
}
