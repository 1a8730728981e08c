import type Stripe from "stripe";
import { afterEach, describe, expect, it } from "vitest";
import { API_VERSION } from "../src/testing/index.js";
import type { StripeWorld } from "./support/harness.js";
import { stripeWorld, T0 } from "./support/harness.js";
import { registrationInput } from "./support/inputs.js";

const now = Math.floor(T0.getTime() / 1000);
const SESSION =
  "mode=payment&line_items[0][quantity]=1&line_items[0][price_data][currency]=usd" +
  "&line_items[0][price_data][unit_amount]=500&line_items[0][price_data][product_data][name]=Tea" +
  "&success_url=https://shop.example/ok&allowed_payment_method_types[0]=card";
const enc = encodeURIComponent;

/** The fake refuses what Stripe refuses, with Stripe's error shape (plain HTTP, no stripe-node). */
describe("FakeStripe is as strict as Stripe", () => {
  let world: StripeWorld;
  afterEach(async () => world?.fake.close());

  const post = async (path: string, body: string) => {
    const response = await fetch(`${world.fake.origin}${path}`, {
      method: "POST",
      headers: {
        authorization: "Bearer sk_test_fake",
        "stripe-version": API_VERSION,
        "content-type": "application/x-www-form-urlencoded",
      },
      body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const refused = async (path: string, body: string) => {
    const answer = await post(path, body);
    expect(answer.status).toBe(400);
    return answer.body.error as { type: string; code?: string; param?: string; message: string };
  };
  const keys = (n: number, prefix = "metadata") =>
    Array.from({ length: n }, (_, i) => `&${prefix}[k${i}]=v`).join("");

  it("accepts the plain session it is asked for", async () => {
    world = await stripeWorld();
    expect((await post("/v1/checkout/sessions", SESSION)).status).toBe(200);
  });

  it.each([
    ["a top-level one", "&locale_x=fr", "locale_x"],
    [
      "one inside payment_intent_data",
      "&payment_intent_data[capture]=manual",
      "payment_intent_data[capture]",
    ],
    [
      "one inside a line item",
      "&line_items[0][price_data][tax_behavior]=inclusive",
      "line_items[0][price_data][tax_behavior]",
    ],
  ])("refuses an unknown parameter, %s, with parameter_unknown naming it", async (_title, extra, param) => {
    world = await stripeWorld();
    expect(await refused("/v1/checkout/sessions", SESSION + extra)).toMatchObject({
      type: "invalid_request_error",
      code: "parameter_unknown",
      param,
      message: `Received unknown parameter: ${param}`,
    });
  });

  it.each([
    ["51 keys", keys(51), "metadata", /up to 50 keys, but you've set 51/],
    ["a key of 41 characters", `&metadata[${"k".repeat(41)}]=v`, "metadata", /Invalid key/],
    ["a key with brackets", `&metadata[${enc("a[b]")}]=v`, "metadata", /Invalid key/],
    ["a value of 501 characters", `&metadata[k]=${"v".repeat(501)}`, "metadata", /Invalid val/],
    [
      "51 keys on the PaymentIntent",
      keys(51, "payment_intent_data[metadata]"),
      "payment_intent_data[metadata]",
      /up to 50 keys/,
    ],
  ])("refuses metadata with %s", async (_title, extra, param, message) => {
    world = await stripeWorld();
    const error = await refused("/v1/checkout/sessions", SESSION + extra);
    expect(error).toMatchObject({ type: "invalid_request_error", param });
    expect(error.message).toMatch(message);
  });

  it("accepts metadata at the limits: 50 keys, 40-character keys, 500-character values", async () => {
    world = await stripeWorld();
    const extra = `${keys(49)}&metadata[${"k".repeat(40)}]=${"v".repeat(500)}`;
    expect((await post("/v1/checkout/sessions", SESSION + extra)).status).toBe(200);
  });

  it("refuses a client_reference_id over 200 characters", async () => {
    world = await stripeWorld();
    expect(
      (await post("/v1/checkout/sessions", `${SESSION}&client_reference_id=${"c".repeat(200)}`)).status,
    ).toBe(200);
    expect(
      await refused("/v1/checkout/sessions", `${SESSION}&client_reference_id=${"c".repeat(201)}`),
    ).toMatchObject({ param: "client_reference_id" });
  });

  it.each([
    ["29 minutes", now + 29 * 60],
    ["24 hours and a second", now + 86_401],
  ])("refuses expires_at %s from now", async (_title, at) => {
    world = await stripeWorld();
    expect(await refused("/v1/checkout/sessions", `${SESSION}&expires_at=${at}`)).toMatchObject({
      param: "expires_at",
    });
  });

  const bankSession = (currency: string, type: string, extra = "") =>
    SESSION.replace("currency]=usd", `currency]=${currency}`).replace(
      "allowed_payment_method_types[0]=card",
      "allowed_payment_method_types[0]=customer_balance&customer_creation=always" +
        "&payment_method_options[customer_balance][funding_type]=bank_transfer" +
        `&payment_method_options[customer_balance][bank_transfer][type]=${type}${extra}`,
    );
  const COUNTRY = "payment_method_options[customer_balance][bank_transfer][eu_bank_transfer][country]";

  it.each(["BE", "ES", "XX"])(
    "refuses eu_bank_transfer country %s (the SDK permits DE, FR, IE, NL)",
    async (country) => {
      world = await stripeWorld();
      expect(
        await refused(
          "/v1/checkout/sessions",
          bankSession("eur", "eu_bank_transfer", `&${COUNTRY}=${country}`),
        ),
      ).toMatchObject({ param: COUNTRY });
      expect(
        (await post("/v1/checkout/sessions", bankSession("eur", "eu_bank_transfer", `&${COUNTRY}=NL`)))
          .status,
      ).toBe(200);
    },
  );

  it.each([
    ["usd", "us_bank_transfer"],
    ["eur", "eu_bank_transfer"],
    ["gbp", "gb_bank_transfer"],
    ["jpy", "jp_bank_transfer"],
    ["mxn", "mx_bank_transfer"],
  ])("offers customer_balance in %s as %s", async (currency, type) => {
    world = await stripeWorld();
    const extra = type === "eu_bank_transfer" ? `&${COUNTRY}=DE` : "";
    const answer = await post("/v1/checkout/sessions", bankSession(currency, type, extra));
    expect(answer.body).toMatchObject({ payment_method_types: ["customer_balance"] });
  });

  it("narrows the allowed types by currency; nothing left to offer is refused, not a page with nothing on it", async () => {
    world = await stripeWorld();
    // A JPY page with the US bank transfer: customer_balance cannot be offered.
    expect(await refused("/v1/checkout/sessions", bankSession("jpy", "us_bank_transfer"))).toMatchObject({
      param: "allowed_payment_method_types",
    });
    const sepaInJpy = SESSION.replace("currency]=usd", "currency]=jpy").replace(
      "allowed_payment_method_types[0]=card",
      "allowed_payment_method_types[0]=sepa_debit",
    );
    expect(await refused("/v1/checkout/sessions", sepaInJpy)).toMatchObject({
      param: "allowed_payment_method_types",
    });
    const mixed = `${SESSION.replace("allowed_payment_method_types[0]=card", "allowed_payment_method_types[0]=sepa_debit")}&allowed_payment_method_types[1]=card`;
    expect((await post("/v1/checkout/sessions", mixed)).body).toMatchObject({
      payment_method_types: ["card"],
    });
  });

  it("refuses customer_balance without a Customer", async () => {
    world = await stripeWorld();
    const body = bankSession("gbp", "gb_bank_transfer").replace("&customer_creation=always", "");
    expect(await refused("/v1/checkout/sessions", body)).toMatchObject({ param: "customer_creation" });
  });

  it("refuses unknown parameters on refunds and transfers too", async () => {
    world = await stripeWorld();
    expect(await refused("/v1/refunds", "payment_intent=pi_x&refund_application_fee=true")).toMatchObject({
      code: "parameter_unknown",
      param: "refund_application_fee",
    });
    expect(
      await refused("/v1/transfers", "amount=1&currency=usd&destination=acct_seller_1&application_fee=1"),
    ).toMatchObject({ code: "parameter_unknown", param: "application_fee" });
  });

  it("reverses a transfer in parts until all of it is back, then refuses more", async () => {
    world = await stripeWorld();
    const { pspReference } = await world.provider.createHostedPayment(registrationInput());
    world.fake.pay(pspReference, "succeeded");
    const charge = world.fake.all<Stripe.Charge>("charge")[0]!.id;
    const transfer = (
      await post(
        "/v1/transfers",
        `amount=1000&currency=usd&destination=acct_seller_1&source_transaction=${charge}`,
      )
    ).body as unknown as Stripe.Transfer;
    world.fake.drainWebhooks();

    const first = await post(`/v1/transfers/${transfer.id}/reversals`, "amount=300");
    expect(first.body).toMatchObject({ object: "transfer_reversal", amount: 300, transfer: transfer.id });
    expect(world.fake.object<Stripe.Transfer>("transfer", transfer.id)).toMatchObject({
      amount_reversed: 300,
      reversed: false,
    });
    expect(await refused(`/v1/transfers/${transfer.id}/reversals`, "amount=701")).toMatchObject({
      code: "amount_too_large",
      param: "amount",
    });
    await post(`/v1/transfers/${transfer.id}/reversals`, "");
    const events = world.fake.drainWebhooks().map((w) => JSON.parse(w.rawBody) as Stripe.Event);
    expect(
      events.map((e) => [
        e.type,
        (e.data.object as Stripe.Transfer).amount_reversed,
        (e.data.object as Stripe.Transfer).reversed,
      ]),
    ).toEqual([
      ["transfer.reversed", 300, false],
      ["transfer.reversed", 1000, true],
    ]);
    expect(await refused(`/v1/transfers/${transfer.id}/reversals`, "")).toMatchObject({
      code: "transfer_already_reversed",
    });
    const txns = world.fake.all<Stripe.BalanceTransaction>("balance_transaction");
    expect(txns.filter((t) => t.type === "transfer_reversal").map((t) => t.amount)).toEqual([300, 700]);
  });

  it("keeps a bank transfer refund requires_action until the customer gives an account, then pending", async () => {
    world = await stripeWorld();
    const { pspReference } = await world.provider.createHostedPayment(
      registrationInput({ method: "bank_transfer" }),
    );
    world.fake.pay(pspReference, "processing");
    world.fake.settle(pspReference);
    const refund = await world.provider.refund({
      pspReference,
      refundId: "rf",
      amount: 100n,
      currency: "USD",
      idempotencyKey: "rk",
    });
    expect(refund.status).toBe("pending");
    world.fake.drainWebhooks();
    const stripeRefund = world.fake.all<Stripe.Refund>("refund")[0]!;
    expect(stripeRefund).toMatchObject({
      status: "requires_action",
      next_action: { type: "display_details" },
    });
    world.fake.refundDetailsProvided(stripeRefund.id);
    expect(world.fake.object<Stripe.Refund>("refund", stripeRefund.id).status).toBe("pending");
    world.fake.settleRefund(stripeRefund.id, "succeeded");
    expect(world.fake.object<Stripe.Refund>("refund", stripeRefund.id)).toMatchObject({
      status: "succeeded",
    });
    // What settlekit hears on the way: pending (details given), then succeeded.
    const events = (
      await Promise.all(world.fake.drainWebhooks().map((w) => world.provider.parseWebhook(w)))
    ).flat();
    expect(events.map((e) => (e.kind === "refund" ? e.status : e.kind))).toEqual(["pending", "succeeded"]);
  });
});

/** What settlekit sends for a bank payment is what the buyer's page offers, or it is refused first. */
describe("bank payments by currency", () => {
  let world: StripeWorld;
  afterEach(async () => world?.fake.close());

  it.each([
    ["USD", {}],
    ["GBP", {}],
    ["JPY", {}],
    ["MXN", {}],
    ["EUR", {}],
    ["EUR", { euBankTransferCountry: "DE" }],
  ] as const)("a %s bank page (options %j) offers every type settlekit sent", async (currency, options) => {
    world = await stripeWorld(options);
    const amount = 12_300n;
    const { pspReference } = await world.provider.createHostedPayment(
      registrationInput({
        currency,
        amount,
        method: "bank_transfer",
        orders: [{ paymentOrderId: "po", sellerId: "S1", amount }],
      }),
    );
    const session = world.fake.object<Stripe.Checkout.Session>("checkout.session", pspReference);
    expect(session.payment_method_types).toEqual(session.allowed_payment_method_types);
    expect(session.payment_method_types.length).toBeGreaterThan(0);
  });

  it.each(["CHF", "CAD", "AUD", "SEK", "PLN"])(
    "refuses a %s bank payment before calling Stripe (no bank transfer or debit to offer)",
    async (currency) => {
      world = await stripeWorld();
      await expect(
        world.provider.createHostedPayment(registrationInput({ currency, method: "bank_transfer" })),
      ).rejects.toMatchObject({ code: "PSP_REQUEST_REJECTED", kind: "fatal", param: "method" });
      expect(world.fake.requests).toEqual([]);
    },
  );
});
