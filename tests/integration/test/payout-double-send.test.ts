import type { PayoutInput } from "@settlekit/core";
import { commissionAndLogistics } from "@settlekit/core";
import { afterEach, describe, expect, it } from "vitest";
import type { World } from "./support/world.js";
import { cart, DIALECTS, makeWorld, referenceOf } from "./support/world.js";

const fees = commissionAndLogistics({ commissionBasisPoints: 1_000, logistics: { USD: 500n } });

describe.each(DIALECTS)("a payout request racing its send job, on %s", (dialect) => {
  let world: World;
  afterEach(async () => world?.close());

  it("calls the PSP once: the job waits for the request's call instead of sending the same key again", async () => {
    const calls: PayoutInput[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    world = await makeWorld(
      dialect,
      { fees, backoff: { baseMs: 1_000, maxMs: 1_000, jitter: 0 } },
      {
        wrapProvider: (provider) => ({
          ...provider,
          // The first payout call is slow: the PSP works on it while the worker runs.
          payout: async (input: PayoutInput) => {
            calls.push(input);
            if (calls.length === 1) await gate;
            return provider.payout!(input);
          },
        }),
      },
    );
    const created = await world.sdk.createPayment(cart({ orders: [{ sellerId: "S1", amount: 10_000n }] }), {
      idempotencyKey: "click-1",
    });
    await world.sandbox.pay(referenceOf({ redirect_url: created.payment.redirectUrl }), {});
    await world.deliver();
    const order = (await world.sdk.getPayment(created.payment.id)).orders[0]!;
    await world.sdk.fulfilOrder({ paymentOrderId: order.id });

    const request = world.sdk.requestPayout({ sellerId: "S1" }, { idempotencyKey: "payout-1" });
    while (calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    // The send job queued with the payout runs while the request's PSP call is in flight.
    const pass = await world.work();
    expect(pass.jobs.claimed).toBeGreaterThan(0);
    expect(calls).toHaveLength(1);
    release();
    const { payouts } = await request;
    expect(payouts).toMatchObject([{ status: "paid", amount: 8_500n }]);
    // The job's retry finds the payout paid and asks nothing more.
    world.clock.advance(60_000);
    await world.work();
    expect(calls).toHaveLength(1);
    expect(world.sandbox.payouts()).toHaveLength(1);
  });
});
