import type { PspEvent } from "@settlekit/core";
import { afterEach, describe, expect, it } from "vitest";
import { type SquareWorld, squareWorld } from "./support/harness.js";
import { registrationInput } from "./support/inputs.js";

describe("ACH bank transfers: PENDING for days, then COMPLETED or FAILED", () => {
  let world: SquareWorld | undefined;
  afterEach(async () => {
    await world?.fake.close();
    world = undefined;
  });
  const events = async (w: SquareWorld): Promise<PspEvent[]> => {
    const out: PspEvent[] = [];
    for (const hook of w.fake.drainWebhooks()) out.push(...(await w.provider.parseWebhook(hook)));
    return out.filter((e) => e.kind === "payment");
  };
  const pendingAch = async () => {
    world = await squareWorld();
    const { pspReference } = await world.provider.createHostedPayment(
      registrationInput({ method: "bank_transfer" }),
    );
    world.fake.pay(pspReference, "processing", { method: "bank_transfer" });
    return { w: world, pspReference };
  };

  it("reports PENDING as processing (bank_transfer), refuses a refund until COMPLETED, then succeeds and refunds", async () => {
    const { w, pspReference } = await pendingAch();
    expect(await events(w)).toEqual([
      expect.objectContaining({
        status: "processing",
        instrument: "bank_transfer",
        amount: 12_345n,
        currency: "USD",
      }),
    ]);
    expect(await w.provider.retrievePayment({ pspReference })).toMatchObject({
      status: "processing",
      instrument: "bank_transfer",
    });
    const refund = { pspReference, refundId: "rf_1", amount: 100n, currency: "USD", idempotencyKey: "rfk_1" };
    const refused = w.provider.refund(refund);
    await expect(refused).rejects.toMatchObject({
      code: "PSP_REQUEST_REJECTED",
      kind: "fatal",
      pspCode: "ach_payment_not_completed",
    });
    await expect(refused).rejects.toThrow(
      /ACH bank transfer still PENDING: Square refunds it only once COMPLETED/,
    );
    expect(w.fake.requests.filter((r) => r.path === "/v2/refunds")).toEqual([]);

    w.clock.advance(3 * 86_400_000);
    w.fake.settle(pspReference);
    expect(await events(w)).toEqual([
      expect.objectContaining({
        status: "succeeded",
        instrument: "bank_transfer",
        amount: 12_345n,
        currency: "USD",
      }),
    ]);
    expect(await w.provider.retrievePayment({ pspReference })).toMatchObject({
      status: "succeeded",
      amount: 12_345n,
    });
    await expect(w.provider.refund(refund)).resolves.toMatchObject({ status: "pending" });
  });

  it("reports a returned debit as failed with Square's code, and the order stays payable", async () => {
    const { w, pspReference } = await pendingAch();
    await events(w);
    w.fake.failAch(pspReference, "INSUFFICIENT_FUNDS");
    expect(await events(w)).toEqual([
      expect.objectContaining({
        status: "failed",
        failureCode: "INSUFFICIENT_FUNDS",
        instrument: "bank_transfer",
      }),
    ]);
    expect(await w.provider.retrievePayment({ pspReference })).toMatchObject({
      status: "failed",
      failureCode: "INSUFFICIENT_FUNDS",
    });
    w.fake.pay(pspReference, "succeeded");
    expect(await w.provider.retrievePayment({ pspReference })).toMatchObject({
      status: "succeeded",
      instrument: "credit_card",
    });
  });
});
