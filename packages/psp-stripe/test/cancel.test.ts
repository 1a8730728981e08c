import { afterEach, describe, expect, it } from "vitest";
import type { StripeWorld } from "./support/harness.js";
import { stripeWorld } from "./support/harness.js";
import { registrationInput } from "./support/inputs.js";

// The port's behaviour is the conformance suite's (cancel-suite.ts); these are the wire's.
describe("cancelHostedPayment on the wire", () => {
  let world: StripeWorld;
  afterEach(async () => world?.fake.close());

  const registered = async () => (await world.provider.createHostedPayment(registrationInput())).pspReference;
  const expirePath = (id: string) => `/v1/checkout/sessions/${id}/expire`;

  it("POSTs /v1/checkout/sessions/:id/expire under the key and the pinned API version", async () => {
    world = await stripeWorld();
    const ref = await registered();
    const answer = await world.provider.cancelHostedPayment({
      pspReference: ref,
      reason: "superseded",
      idempotencyKey: "cnl_key_1",
    });
    expect(answer).toEqual({ pspReference: ref, status: "canceled" });
    const sent = world.fake.requests.filter((r) => r.path === expirePath(ref));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      method: "POST",
      idempotencyKey: "cnl_key_1",
      stripeVersion: "2026-10-28.endive",
      status: 200,
    });
    expect(world.fake.object<{ status: string }>("checkout.session", ref).status).toBe("expired");
    expect(world.fake.drainWebhooks().map((w) => JSON.parse(w.rawBody).type)).toEqual([
      "checkout.session.expired",
    ]);
  });

  it("reads a complete session back after Stripe's 400 and answers it as paid, with the amount", async () => {
    world = await stripeWorld();
    const ref = await registered();
    world.fake.pay(ref, "succeeded");
    const answer = await world.provider.cancelHostedPayment({
      pspReference: ref,
      reason: "expired",
      idempotencyKey: "cnl_key_2",
    });
    expect(answer).toEqual({ pspReference: ref, status: "succeeded", amount: 12_345n, currency: "USD" });
    const expire = world.fake.requests.find((r) => r.path === expirePath(ref))!;
    expect(expire.status).toBe(400);
    const retrieve = world.fake.requests.at(-1)!;
    expect(retrieve).toMatchObject({ method: "GET", path: `/v1/checkout/sessions/${ref}` });
    expect(retrieve.query).toMatchObject({ "expand[0]": "payment_intent.latest_charge" });
    expect(world.fake.object<{ status: string }>("checkout.session", ref).status).toBe("complete");
  });

  it("the fake refuses to expire a complete session with Stripe's error shape", async () => {
    world = await stripeWorld();
    const ref = await registered();
    world.fake.pay(ref, "succeeded");
    const response = await fetch(`${world.fake.origin}${expirePath(ref)}`, {
      method: "POST",
      headers: {
        authorization: "Bearer sk_test_fake",
        "stripe-version": "2026-10-28.endive",
        "content-type": "application/x-www-form-urlencoded",
      },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: {
        type: "invalid_request_error",
        message:
          'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of `complete`.',
      },
    });
  });

  it("throws a refusal of a session that is still open as it came (a key reused for another session)", async () => {
    world = await stripeWorld();
    const first = await registered();
    const second = await registered();
    await world.provider.cancelHostedPayment({
      pspReference: first,
      reason: "superseded",
      idempotencyKey: "k",
    });
    await expect(
      world.provider.cancelHostedPayment({ pspReference: second, reason: "superseded", idempotencyKey: "k" }),
    ).rejects.toMatchObject({ code: "PSP_REQUEST_REJECTED", kind: "fatal", pspCode: "idempotency_error" });
    expect(world.fake.object<{ status: string }>("checkout.session", second).status).toBe("open");
  });

  it("refuses a missing key or reference before calling Stripe", async () => {
    world = await stripeWorld();
    const ref = await registered();
    const before = world.fake.requests.length;
    await expect(
      world.provider.cancelHostedPayment({ pspReference: ref, reason: "superseded", idempotencyKey: "" }),
    ).rejects.toMatchObject({ code: "PSP_REQUEST_REJECTED", param: "idempotencyKey" });
    await expect(
      world.provider.cancelHostedPayment({ pspReference: "", reason: "superseded", idempotencyKey: "k" }),
    ).rejects.toMatchObject({ code: "PSP_REQUEST_REJECTED", param: "pspReference" });
    expect(world.fake.requests).toHaveLength(before);
  });
});
