import { afterEach, describe, expect, it } from "vitest";
import type { StripeWorld } from "./support/harness.js";
import { stripeWorld } from "./support/harness.js";
import { registrationInput } from "./support/inputs.js";

const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`key_${i}`, "v"]));

/** Stripe's metadata limits, checked on what the adapter sends (the host's keys and its own), before any call. */
describe("metadata within Stripe's limits", () => {
  let world: StripeWorld;
  afterEach(async () => world?.fake.close());
  const sessionPosts = () =>
    world.fake.requests.filter((r) => r.method === "POST" && r.path === "/v1/checkout/sessions");

  it.each([
    ["49 host keys (50 with settlekit_payment_id)", keys(49)],
    ["a 40-character key", { ["k".repeat(40)]: "v" }],
    ["a 500-character value", { k: "v".repeat(500) }],
  ])("sends %s", async (_label, metadata) => {
    world = await stripeWorld();
    await world.provider.createHostedPayment(registrationInput({ metadata }));
    expect(Object.keys(sessionPosts()[0]!.form.metadata as object)).toHaveLength(
      Object.keys(metadata).length + 1,
    );
  });

  it.each([
    ["50 host keys (51 with settlekit_payment_id)", keys(50), "metadata"],
    ["a 41-character key", { ["k".repeat(41)]: "v" }, "metadata"],
    ["a key with [", { "a[b": "v" }, "metadata"],
    ["a key with ]", { "a]": "v" }, "metadata"],
    ["a 501-character value", { k: "v".repeat(501) }, "metadata.k"],
  ])(
    "refuses %s as fatal PSP_REQUEST_REJECTED naming the field, before calling Stripe",
    async (_label, metadata, param) => {
      world = await stripeWorld();
      await expect(world.provider.createHostedPayment(registrationInput({ metadata }))).rejects.toMatchObject(
        {
          code: "PSP_REQUEST_REJECTED",
          kind: "fatal",
          pspCode: "metadata_invalid",
          param,
        },
      );
      expect(world.fake.requests).toHaveLength(0);
    },
  );

  it("refuses a refund reason over 500 characters before creating the refund", async () => {
    world = await stripeWorld();
    const { pspReference } = await world.provider.createHostedPayment(registrationInput());
    world.fake.pay(pspReference, "succeeded");
    const refund = world.provider.refund({
      pspReference,
      refundId: "rf_1",
      amount: 100n,
      currency: "USD",
      reason: "x".repeat(501),
      idempotencyKey: "rk_1",
    });
    await expect(refund).rejects.toMatchObject({
      code: "PSP_REQUEST_REJECTED",
      param: "metadata.settlekit_refund_reason",
    });
    expect(world.fake.requests.filter((r) => r.method === "POST" && r.path === "/v1/refunds")).toHaveLength(
      0,
    );
  });
});
