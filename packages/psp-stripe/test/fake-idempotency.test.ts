import { afterEach, describe, expect, it } from "vitest";
import { API_VERSION, IDEMPOTENCY_KEY_TTL_MS } from "../src/testing/index.js";
import type { StripeWorld } from "./support/harness.js";
import { stripeWorld } from "./support/harness.js";

/**
 * The fake's idempotency layer against Stripe's documented one
 * (https://docs.stripe.com/api/idempotent_requests), with plain HTTP (no stripe-node retries).
 */
describe("FakeStripe idempotency, as Stripe documents it", () => {
  let world: StripeWorld;
  afterEach(async () => world?.fake.close());

  const post = (body: string, key: string) =>
    fetch(`${world.fake.origin}/v1/checkout/sessions`, {
      method: "POST",
      headers: {
        authorization: "Bearer sk_test_fake",
        "stripe-version": API_VERSION,
        "content-type": "application/x-www-form-urlencoded",
        "idempotency-key": key,
      },
      body,
    });
  const session = (amount: string) =>
    `mode=payment&line_items[0][quantity]=1&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=${amount}&line_items[0][price_data][product_data][name]=Tea&success_url=https://shop.example/ok`;
  const sessions = () => world.fake.all("checkout.session").length;

  it("saves nothing for a request that fails validation: the same key with fixed parameters runs", async () => {
    world = await stripeWorld();
    const invalid = await post(session("ten"), "k-validation");
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: unknown }).error).toMatchObject({
      type: "invalid_request_error",
      code: "parameter_invalid_integer",
    });
    const fixed = await post(session("500"), "k-validation");
    expect(fixed.status).toBe(200);
    expect(fixed.headers.get("idempotent-replayed")).toBeNull();
    expect(sessions()).toBe(1);
  });

  it("saves a 500 that came after the endpoint ran and replays it for the same key", async () => {
    world = await stripeWorld();
    world.fake.failNext("500");
    const first = await post(session("500"), "k-500");
    expect(first.status).toBe(500);
    const again = await post(session("500"), "k-500");
    expect(again.status).toBe(500);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(await first.json());
    expect(sessions()).toBe(1);
  });

  it("keeps the real answer when only the way back failed (500-lost): the retry gets the session", async () => {
    world = await stripeWorld();
    world.fake.failNext("500-lost");
    expect((await post(session("500"), "k-lost")).status).toBe(500);
    const again = await post(session("500"), "k-lost");
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(sessions()).toBe(1);
  });

  it("saves nothing for a 503 answered before the endpoint ran", async () => {
    world = await stripeWorld();
    world.fake.failNext("503");
    expect((await post(session("500"), "k-503")).status).toBe(503);
    expect(sessions()).toBe(0);
    expect((await post(session("501"), "k-503")).status).toBe(200);
  });

  it("refuses other parameters under a used key until the key is 24 hours old, then runs them as new", async () => {
    world = await stripeWorld();
    expect((await post(session("500"), "k-old")).status).toBe(200);
    world.clock.advance(IDEMPOTENCY_KEY_TTL_MS - 1);
    const early = await post(session("501"), "k-old");
    expect(early.status).toBe(400);
    expect(((await early.json()) as { error: unknown }).error).toMatchObject({ type: "idempotency_error" });
    expect((await post(session("500"), "k-old")).headers.get("idempotent-replayed")).toBe("true");
    world.clock.advance(1);
    const pruned = await post(session("501"), "k-old");
    expect(pruned.status).toBe(200);
    expect(pruned.headers.get("idempotent-replayed")).toBeNull();
    expect(sessions()).toBe(2);
  });
});
