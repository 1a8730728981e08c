import type { PspEvent } from "@settlekit/core";
import { WebhooksHelper } from "square";
import { afterEach, describe, expect, it } from "vitest";
import { squareProvider } from "../src/index.js";
import { squareSignature } from "../src/webhooks.js";
import { NOTIFICATION_URL, SIGNATURE_KEY, type SquareWorld, squareWorld } from "./support/harness.js";
import { registrationInput } from "./support/inputs.js";

/**
 * The test vectors of the Square SDK's own webhook tests (square-nodejs-sdk,
 * tests/integration/webhooks.test.ts): a notification, its signature, key and URL.
 */
const VECTOR = {
  requestBody:
    '{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}',
  signatureHeader: "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=",
  signatureKey: "Ibxx_5AKakO-3qeNVR61Dw",
  notificationUrl: "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9",
};
/** The SDK's vectors for bodies with characters JSON may escape. */
const SPECIAL = [
  {
    body: '{"data":{"type":"webhooks","id":"fake_id"}}',
    signature: "W3FlCNk5IA3ZQ2LHTWoajvzfaDu/OwY2tNHIHC3IUOA=",
  },
  {
    body: '{"data":{"type":"webhooks","id":">id<"}}',
    signature: "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=",
  },
];

const vectorProvider = (overrides: { signatureKey?: string; notificationUrl?: string } = {}) =>
  squareProvider({
    // Never called: parseWebhook reads nothing from Square.
    client: {} as never,
    locationId: "L1",
    currency: "USD",
    webhookSignatureKey: overrides.signatureKey ?? VECTOR.signatureKey,
    notificationUrl: overrides.notificationUrl ?? VECTOR.notificationUrl,
  });

const headers = (signature: string) => ({ "x-square-hmacsha256-signature": signature });

describe("Square webhook signatures: the SDK's published test vectors", () => {
  it("accepts the SDK's notification under its signature, as string and as bytes, and WebhooksHelper agrees", async () => {
    const provider = vectorProvider();
    const events = await provider.parseWebhook({
      rawBody: VECTOR.requestBody,
      headers: headers(VECTOR.signatureHeader),
    });
    expect(events).toEqual([
      {
        kind: "ignored",
        eventId: "ac3ac95b-f97d-458c-a6e6-18981597e05f",
        type: "webhooks.test_notification",
        occurredAt: new Date("2022-07-13T20:30:59.037Z"),
      },
    ]);
    const bytes = new TextEncoder().encode(VECTOR.requestBody);
    await expect(
      provider.parseWebhook({ rawBody: bytes, headers: headers(VECTOR.signatureHeader) }),
    ).resolves.toHaveLength(1);
    await expect(WebhooksHelper.verifySignature(VECTOR)).resolves.toBe(true);
    expect(
      squareSignature(VECTOR.signatureKey, VECTOR.notificationUrl, VECTOR.requestBody).toString("base64"),
    ).toBe(VECTOR.signatureHeader);
  });

  it.each(SPECIAL)("matches the SDK's vector for the body $body", ({ body, signature }) => {
    expect(squareSignature("signature-key", "https://webhook.site/webhooks", body).toString("base64")).toBe(
      signature,
    );
  });

  it.each([
    [
      "another notification URL",
      { notificationUrl: "https://webhook.site/79a4f3a-dcfa-49ee-bac5-9d0edad886b9" },
    ],
    ["another signature key", { signatureKey: "MCmhFRxGX82xMwg5FsaoQA" }],
  ])(
    "refuses the vector with %s, naming the key variable and the exact URL expected",
    async (_case, overrides) => {
      const provider = vectorProvider(overrides);
      const attempt = provider.parseWebhook({
        rawBody: VECTOR.requestBody,
        headers: headers(VECTOR.signatureHeader),
      });
      await expect(attempt).rejects.toMatchObject({ code: "WEBHOOK_SIGNATURE_INVALID", kind: "fatal" });
      const url = ("notificationUrl" in overrides && overrides.notificationUrl) || VECTOR.notificationUrl;
      await expect(attempt).rejects.toThrow(
        `signature does not match: check SQUARE_WEBHOOK_SIGNATURE_KEY and that the notification URL is exactly ${url} `,
      );
    },
  );

  it.each([
    ["an invalid signature header", VECTOR.requestBody, "1z2n3DEJJiUPKcPzQo1ftvbxGdw="],
    ["a changed body", VECTOR.requestBody.replace("2022-07-13", "2022-06-13"), VECTOR.signatureHeader],
    ["the body reformatted", JSON.stringify(JSON.parse(VECTOR.requestBody), null, 2), VECTOR.signatureHeader],
    ["no signature", VECTOR.requestBody, ""],
  ])("refuses %s as WEBHOOK_SIGNATURE_INVALID", async (_case, rawBody, signature) => {
    await expect(
      vectorProvider().parseWebhook({ rawBody, headers: headers(signature) }),
    ).rejects.toMatchObject({
      code: "WEBHOOK_SIGNATURE_INVALID",
      kind: "fatal",
    });
  });

  it("accepts the old and the new key during a rotation", async () => {
    const provider = squareProvider({
      client: {} as never,
      locationId: "L1",
      currency: "USD",
      webhookSignatureKey: ["the-new-key", VECTOR.signatureKey],
      notificationUrl: VECTOR.notificationUrl,
    });
    await expect(
      provider.parseWebhook({ rawBody: VECTOR.requestBody, headers: headers(VECTOR.signatureHeader) }),
    ).resolves.toHaveLength(1);
  });

  it("refuses to start without a signature key or with a relative notification URL", () => {
    const base = {
      client: {} as never,
      locationId: "L1",
      currency: "USD",
      notificationUrl: NOTIFICATION_URL,
    };
    expect(() => squareProvider({ ...base, webhookSignatureKey: "" })).toThrow(
      /SQUARE_WEBHOOK_SIGNATURE_KEY/,
    );
    expect(() =>
      squareProvider({ ...base, webhookSignatureKey: SIGNATURE_KEY, notificationUrl: "/webhooks/square" }),
    ).toThrow(/notificationUrl/);
  });
});

describe("Square webhooks from the fake", () => {
  let world: SquareWorld | undefined;
  afterEach(async () => {
    await world?.fake.close();
    world = undefined;
  });
  const parseAll = async (w: SquareWorld): Promise<PspEvent[]> => {
    const events: PspEvent[] = [];
    for (const hook of w.fake.drainWebhooks()) events.push(...(await w.provider.parseWebhook(hook)));
    return events;
  };

  it("gives a duplicate notification the same event id (core drops it) and refuses it with a byte changed", async () => {
    world = await squareWorld();
    const { pspReference } = await world.provider.createHostedPayment(registrationInput());
    world.fake.pay(pspReference, "succeeded");
    const [created] = world.fake.drainWebhooks();
    const first = await world.provider.parseWebhook(created!);
    const again = await world.provider.parseWebhook(created!);
    expect(again).toEqual(first);
    expect(first[0]).toMatchObject({
      kind: "payment",
      status: "succeeded",
      pspReference,
      amount: 12_345n,
      currency: "USD",
    });
    const tampered = created!.rawBody.replace('"amount":12345', '"amount":12346');
    expect(tampered).not.toBe(created!.rawBody);
    await expect(
      world.provider.parseWebhook({ rawBody: tampered, headers: created!.headers }),
    ).rejects.toMatchObject({
      code: "WEBHOOK_SIGNATURE_INVALID",
    });
  });

  it("shows a provider configured with another notification URL the URL it expects on the first webhook", async () => {
    world = await squareWorld({ notificationUrl: "https://shop.example/webhooks/square/" });
    const { pspReference } = await world.provider.createHostedPayment(registrationInput());
    world.fake.pay(pspReference, "succeeded");
    const [hook] = world.fake.drainWebhooks();
    await expect(world.provider.parseWebhook(hook!)).rejects.toThrow(
      "check SQUARE_WEBHOOK_SIGNATURE_KEY and that the notification URL is exactly https://shop.example/webhooks/square/ ",
    );
  });

  it("keeps an amount above 2^53 exact in a payment event", async () => {
    world = await squareWorld();
    const amount = 9_007_199_254_740_993n;
    const { pspReference } = await world.provider.createHostedPayment(
      registrationInput({ amount, orders: [{ paymentOrderId: "o1", sellerId: "S1", amount }] }),
    );
    world.fake.pay(pspReference, "succeeded");
    const [event] = (await parseAll(world)).filter((e) => e.kind === "payment");
    expect(event).toMatchObject({ status: "succeeded", amount });
  });

  it("maps refund.created / refund.updated to pending then succeeded with settlekit's refund id", async () => {
    world = await squareWorld();
    const { pspReference } = await world.provider.createHostedPayment(registrationInput());
    world.fake.pay(pspReference, "succeeded");
    world.fake.drainWebhooks();
    const { refundReference } = await world.provider.refund({
      pspReference,
      refundId: "rf_1",
      amount: 345n,
      currency: "USD",
      reason: "requested_by_customer",
      idempotencyKey: "rfk_1",
    });
    const refunds = (await parseAll(world)).filter((e) => e.kind === "refund");
    expect(refunds).toEqual([
      expect.objectContaining({
        status: "pending",
        refundReference,
        refundId: "rf_1",
        pspReference,
        amount: 345n,
      }),
      expect.objectContaining({
        status: "succeeded",
        refundReference,
        refundId: "rf_1",
        pspReference,
        amount: 345n,
      }),
    ]);
  });

  it("maps payout.sent and payout.paid to bank_payout pending then paid", async () => {
    world = await squareWorld();
    const { pspReference } = await world.provider.createHostedPayment(registrationInput());
    world.fake.pay(pspReference, "succeeded");
    world.fake.drainWebhooks();
    const payout = world.fake.runPayout({ paid: true })!;
    const events = await parseAll(world);
    expect(
      events.map((e) => (e.kind === "bank_payout" ? [e.status, e.bankPayoutReference, e.amount] : e.kind)),
    ).toEqual([
      ["pending", payout.id, payout.amount_money.amount],
      ["paid", payout.id, payout.amount_money.amount],
    ]);
  });
});
