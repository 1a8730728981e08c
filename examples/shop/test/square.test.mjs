// The shop on Square: SQUARE_ACCESS_TOKEN, SQUARE_LOCATION_ID and SQUARE_WEBHOOK_SIGNATURE_KEY
// select it; here the client is pointed at the fake Square server (SQUARE_BASE_URL). A payment
// becomes a payment link, and Square's signed webhooks reach /v1/webhooks/square over HTTP.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "@settlekit/core";
import { FakeSquare } from "@settlekit/psp-square/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startShop } from "../src/shop.mjs";

const KEY = "shop-square-signature-key";
const NOTIFICATION_URL = "https://shop.test/v1/webhooks/square";
const VARIABLES = [
  "SQUARE_ACCESS_TOKEN",
  "SQUARE_LOCATION_ID",
  "SQUARE_WEBHOOK_SIGNATURE_KEY",
  "SQUARE_BASE_URL",
  "SQUARE_NOTIFICATION_URL",
];

let dir;
let fake;
let shop;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "settlekit-shop-square-"));
  fake = await FakeSquare.start({ clock: systemClock, signatureKey: KEY, notificationUrl: NOTIFICATION_URL });
  Object.assign(process.env, {
    SQUARE_ACCESS_TOKEN: "EAAA_shop_test",
    SQUARE_LOCATION_ID: "L_FAKE_US",
    SQUARE_WEBHOOK_SIGNATURE_KEY: KEY,
    SQUARE_BASE_URL: fake.baseUrl,
    SQUARE_NOTIFICATION_URL: NOTIFICATION_URL,
  });
  try {
    shop = await startShop({ port: 0, sqliteFile: join(dir, "shop.sqlite") });
  } finally {
    for (const name of VARIABLES) delete process.env[name];
  }
});
afterAll(async () => {
  await shop?.close();
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (rawBody, headers) =>
  fetch(`${shop.url}/v1/webhooks/square`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: rawBody,
  });

describe("the shop on Square (fake server)", () => {
  it("registers a payment link and takes the payment through Square's signed webhooks", async () => {
    const { payment } = await shop.system.createPayment(
      {
        buyerId: "B1",
        currency: "USD",
        method: "card",
        orders: [{ sellerId: "S1", amount: 4_799n, description: "Teapot" }],
        successUrl: `${shop.url}/orders/done`,
        cancelUrl: `${shop.url}/cart`,
      },
      { idempotencyKey: "shop-square-1" },
    );
    const link = [...fake.links.values()][0];
    expect(payment.redirectUrl).toBe(link.url);
    expect(fake.requests[0].body.checkout_options.redirect_url).toBe(
      `${shop.url}/orders/done?payment_id=${payment.id}`,
    );
    fake.pay(link.order_id, "succeeded");
    for (const { rawBody, headers } of fake.drainWebhooks())
      expect((await post(rawBody, headers)).status).toBe(200);
    expect(await shop.system.getPayment(payment.id)).toMatchObject({ status: "succeeded" });
  });

  it("answers 400 to a webhook that Square did not sign", async () => {
    const rawBody = fake.ignoredEventBody();
    expect(
      (await post(rawBody, { "x-square-hmacsha256-signature": fake.sign(rawBody, { signatureKey: "x" }) }))
        .status,
    ).toBe(400);
  });
});
