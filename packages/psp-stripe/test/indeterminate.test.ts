import Stripe from "stripe";
import { afterEach, describe, expect, it } from "vitest";
import { stripeProvider } from "../src/index.js";
import type { StripeWorld } from "./support/harness.js";
import { stripeWorld } from "./support/harness.js";
import { registrationInput } from "./support/inputs.js";

/**
 * A 500 Stripe saved after the endpoint ran is replayed for the same key (Stripe's idempotency
 * layer, and the fake's): it is indeterminate, and the retry settles it by looking the object up
 * by settlekit's id in its metadata, not by assuming nothing happened.
 */
describe("a 500 after Stripe moved the money, settled by retrieving", () => {
  let world: StripeWorld;
  afterEach(async () => world?.fake.close());

  const paid = async () => {
    const { pspReference } = await world.provider.createHostedPayment(registrationInput());
    world.fake.pay(pspReference, "succeeded");
    return pspReference;
  };

  it("a refund: indeterminate, then the retry under the same key finds the refund Stripe made — one refund", async () => {
    world = await stripeWorld();
    const pspReference = await paid();
    const input = { pspReference, refundId: "rf_1", amount: 345n, currency: "USD", idempotencyKey: "rk_1" };
    world.fake.failNext("500", (r) => r.method === "POST" && r.path === "/v1/refunds");
    await expect(world.provider.refund(input)).rejects.toMatchObject({
      code: "PSP_TIMEOUT",
      kind: "indeterminate",
    });
    const [made] = world.fake.all<{ id: string }>("refund");
    expect(await world.provider.refund(input)).toEqual({ refundReference: made!.id, status: "succeeded" });
    expect(world.fake.all("refund")).toHaveLength(1);
  });

  it("a payout: indeterminate, then the retry under the same key finds the transfer Stripe made — one transfer", async () => {
    world = await stripeWorld();
    const pspReference = await paid();
    const input = {
      payoutId: "po_1",
      sellerId: "S1",
      amount: 9_000n,
      currency: "USD",
      pspReference,
      idempotencyKey: "pk_1",
    };
    world.fake.failNext("500", (r) => r.method === "POST" && r.path === "/v1/transfers");
    await expect(world.provider.payout!(input)).rejects.toMatchObject({
      code: "PSP_TIMEOUT",
      kind: "indeterminate",
    });
    const [made] = world.fake.all<{ id: string }>("transfer");
    expect(await world.provider.payout!(input)).toMatchObject({ payoutReference: made!.id, status: "paid" });
    expect(world.fake.all("transfer")).toHaveLength(1);
  });

  it("a connection refused before sending stays retryable (nothing reached Stripe)", async () => {
    world = await stripeWorld();
    const { port } = world.fake;
    await world.fake.close(); // nothing listens on that port any more: ECONNREFUSED
    const client = new Stripe("sk_test_fake", {
      host: "127.0.0.1",
      port,
      protocol: "http",
      maxNetworkRetries: 0,
    });
    const offline = stripeProvider({ client, webhookSecret: "whsec_x", clock: world.clock });
    await expect(offline.createHostedPayment(registrationInput())).rejects.toMatchObject({
      code: "PSP_UNAVAILABLE",
      kind: "retryable",
      pspCode: "connection_error",
    });
  });
});
