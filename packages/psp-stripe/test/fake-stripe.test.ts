import { afterEach, describe, expect, it } from "vitest";
import { API_VERSION } from "../src/testing/index.js";
import type { StripeWorld } from "./support/harness.js";
import { stripeWorld } from "./support/harness.js";
import { registrationInput } from "./support/inputs.js";

/** The fake's own wire rules, checked with plain HTTP (no stripe-node in between). */
describe("FakeStripe on the wire", () => {
  let world: StripeWorld;
  afterEach(async () => world?.fake.close());

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${world.fake.origin}${path}`, {
      method: "POST",
      headers: {
        authorization: "Bearer sk_test_fake",
        "stripe-version": API_VERSION,
        "content-type": "application/x-www-form-urlencoded",
        ...headers,
      },
      body,
    });
  const errorOf = async (response: Response) => ((await response.json()) as { error: unknown }).error;
  const session =
    "mode=payment&line_items[0][quantity]=1&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=500&line_items[0][price_data][product_data][name]=Tea&success_url=https://shop.example/ok";

  it("replays the same key and body, refuses another body under it with idempotency_error", async () => {
    world = await stripeWorld();
    const first = await post("/v1/checkout/sessions", session, { "idempotency-key": "k1" });
    const again = await post("/v1/checkout/sessions", session, { "idempotency-key": "k1" });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(await first.json());
    const other = await post("/v1/checkout/sessions", session.replace("500", "501"), {
      "idempotency-key": "k1",
    });
    expect(other.status).toBe(400);
    expect(await errorOf(other)).toMatchObject({ type: "idempotency_error" });
    expect(world.fake.all("checkout.session")).toHaveLength(1);
  });

  it("refuses a request without the pinned Stripe-Version or with a wrong key", async () => {
    world = await stripeWorld();
    const noVersion = await post("/v1/checkout/sessions", session, { "stripe-version": "2024-06-20" });
    expect(noVersion.status).toBe(400);
    expect(await errorOf(noVersion)).toMatchObject({ code: "api_version_invalid" });
    const badKey = await post("/v1/checkout/sessions", session, { authorization: "Bearer sk_live_nope" });
    expect(badKey.status).toBe(401);
  });

  it("pays and settles over its HTTP test-control API", async () => {
    world = await stripeWorld();
    const { pspReference } = await world.provider.createHostedPayment(
      registrationInput({ method: "bank_transfer" }),
    );
    expect((await post(`/_test/checkout/sessions/${pspReference}/pay`, "outcome=processing")).status).toBe(
      200,
    );
    expect((await world.provider.retrievePayment({ pspReference })).status).toBe("processing");
    expect((await post(`/_test/checkout/sessions/${pspReference}/settle`, "")).status).toBe(200);
    expect((await world.provider.retrievePayment({ pspReference })).status).toBe("succeeded");
    const payout = await (await post("/_test/payouts", "currency=usd")).json();
    expect(payout).toMatchObject({ object: "payout", amount: expect.any(Number), status: "paid" });
  });

  it("opens, wins and loses disputes over its HTTP test-control API", async () => {
    world = await stripeWorld();
    const { pspReference } = await world.provider.createHostedPayment(registrationInput());
    world.fake.pay(pspReference, "succeeded");
    const res = await post(`/_test/checkout/sessions/${pspReference}/dispute`, "amount=1000");
    const opened = (await res.json()) as { id: string };
    expect(opened).toMatchObject({ object: "dispute", amount: 1_000, status: "needs_response" });
    const won = await (await post(`/_test/disputes/${opened.id}/win`, "fee_returned=500")).json();
    expect(won).toMatchObject({
      status: "won",
      balance_transactions: [{ amount: -1_000 }, { amount: 1_000, fee: -500 }],
    });
    const again = await post(`/_test/disputes/${opened.id}/lose`, "");
    expect(again.status).toBe(400);
    expect(await errorOf(again)).toMatchObject({ code: "dispute_already_closed" });
  });
});
