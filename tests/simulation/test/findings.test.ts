import { accounts } from "@settlekit/core";
import { describe, expect, it } from "vitest";
import { createRng } from "../src/prng.js";
import type { WorldConfig } from "../src/world.js";
import { World } from "../src/world.js";

/** A quiet world: no network faults, a PSP whose pages outlive the payment and cannot be closed. */
const quiet: WorldConfig = {
  storeKind: "memory",
  canClosePages: false,
  bankTransferSettleMs: 30_000,
  backoffBaseMs: 1_000,
  sweepAfterMs: 900_000,
  dropRate: 0,
  duplicateRate: 0,
  maxDelayMs: 0,
  publisherFailRate: 0,
  bugs: undefined,
};

const HOUR = 3_600_000;

/** Regressions for what the simulator found that needs the sandbox's faults (core's own are in core). */
describe("what the simulator found (sandbox PSP)", () => {
  it("books a bounced automatic refund of a capture after expiry as owed to the buyer again (seed 287)", async () => {
    const world = await World.create(287, quiet, createRng(287));
    try {
      const { payment } = await world.system.createPayment(
        {
          buyerId: "B1",
          currency: "USD",
          method: "card",
          orders: [{ sellerId: "S1", amount: 4_500n }],
          successUrl: "https://shop.sim/done",
          cancelUrl: "https://shop.sim/cart",
        },
        { idempotencyKey: "create-1" },
      );
      const ref = payment.redirectUrl!.split("/pay/")[1]!;
      const settle = async () => {
        for (let i = 0; i < 3; i++) {
          await world.sandbox.tick();
          world.pump(false);
          await world.deliver(100, true);
          await world.work("w");
        }
      };
      world.clock.advance(25 * HOUR);
      await settle();
      expect((await world.system.getPayment(payment.id)).status).toBe("expired");
      await world.sandbox.pay(ref); // the page outlived the payment
      await settle();
      const balance = async (account: string) =>
        (await world.store.ledger.getBalance(account, "USD")).balance;
      expect(await balance(accounts.pspReceivable("sandbox"))).toBe(0n); // captured, refunded automatically
      const [refund] = world.sandbox.refunds();
      world.sandbox.faults.failRefundAfterSuccess(refund!.refundReference); // the bank refund bounced
      await settle();
      expect(await balance(accounts.pspReceivable("sandbox"))).toBe(4_500n);
      expect(await balance(accounts.platformCapturesToReturn)).toBe(-4_500n);
      const [attempt] = await world.system.listPaymentAttempts(payment.id);
      expect(attempt).toMatchObject({ unownedReason: "after_expiry", captureRefundStatus: "failed" });
      const events = await world.system.listPaymentEvents(payment.id);
      expect(events.data.map((e) => e.type)).toEqual(
        expect.arrayContaining(["payment.capture_refunded", "payment.capture_refund_failed"]),
      );
    } finally {
      await world.close();
    }
  });
});
