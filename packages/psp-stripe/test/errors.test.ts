import Stripe from "stripe";
import { afterEach, describe, expect, it } from "vitest";
import { toPspError } from "../src/index.js";
import type { StripeWorld } from "./support/harness.js";
import { stripeWorld } from "./support/harness.js";
import { registrationInput } from "./support/inputs.js";

const { errors } = Stripe;

describe("toPspError: Stripe's errors classified", () => {
  it.each([
    [
      "connection refused",
      new errors.StripeConnectionError({ message: "refused", detail: { code: "ECONNREFUSED" } as never }),
      "PSP_UNAVAILABLE",
      "retryable",
      "connection_error",
    ],
    [
      "a timeout",
      new errors.StripeConnectionError({ message: "timeout", detail: { code: "ETIMEDOUT" } as never }),
      "PSP_TIMEOUT",
      "indeterminate",
      "timeout",
    ],
    [
      "a connection reset after sending",
      new errors.StripeConnectionError({
        message: "socket hang up",
        detail: { code: "ECONNRESET" } as never,
      }),
      "PSP_TIMEOUT",
      "indeterminate",
      "connection_lost",
    ],
    [
      "a connection error without a socket code",
      new errors.StripeConnectionError({ message: "broken" }),
      "PSP_TIMEOUT",
      "indeterminate",
      "connection_lost",
    ],
    [
      "a DNS failure",
      new errors.StripeConnectionError({ message: "no such host", detail: { code: "ENOTFOUND" } as never }),
      "PSP_UNAVAILABLE",
      "retryable",
      "connection_error",
    ],
    [
      "a 500",
      new errors.StripeAPIError({ message: "boom", statusCode: 500, type: "api_error" }),
      "PSP_TIMEOUT",
      "indeterminate",
      "api_error",
    ],
    [
      "a 503",
      new errors.StripeAPIError({ message: "unavailable", statusCode: 503, type: "api_error" }),
      "PSP_TIMEOUT",
      "indeterminate",
      "api_error",
    ],
    [
      "a 429",
      new errors.StripeRateLimitError({ message: "slow down", statusCode: 429, code: "rate_limit" }),
      "PSP_UNAVAILABLE",
      "retryable",
      "rate_limit",
    ],
    [
      "a 409 idempotency_key_in_use",
      new errors.StripeAPIError({ message: "in use", statusCode: 409, code: "idempotency_key_in_use" }),
      "PSP_UNAVAILABLE",
      "retryable",
      "idempotency_key_in_use",
    ],
    [
      "a card error",
      new errors.StripeCardError({
        message: "declined",
        statusCode: 402,
        code: "card_declined",
        decline_code: "insufficient_funds",
      }),
      "PAYMENT_DECLINED",
      "declined",
      "insufficient_funds",
    ],
    [
      "a card error without decline code",
      new errors.StripeCardError({ message: "expired", statusCode: 402, code: "expired_card" }),
      "PAYMENT_DECLINED",
      "declined",
      "expired_card",
    ],
    [
      "an invalid request",
      new errors.StripeInvalidRequestError({
        message: "bad",
        statusCode: 400,
        code: "parameter_invalid",
        param: "amount",
      }),
      "PSP_REQUEST_REJECTED",
      "fatal",
      "parameter_invalid",
    ],
    [
      "an idempotency error",
      new errors.StripeIdempotencyError({ message: "reused", statusCode: 400, type: "idempotency_error" }),
      "PSP_REQUEST_REJECTED",
      "fatal",
      "idempotency_error",
    ],
    [
      "a 404",
      new errors.StripeInvalidRequestError({ message: "no such", statusCode: 404, code: "resource_missing" }),
      "NOT_FOUND",
      "fatal",
      "resource_missing",
    ],
    [
      "bad credentials",
      new errors.StripeAuthenticationError({ message: "bad key", statusCode: 401 }),
      "PSP_REQUEST_REJECTED",
      "fatal",
      "StripeAuthenticationError",
    ],
    [
      "something not from Stripe",
      new TypeError("undefined is not a function"),
      "PSP_TIMEOUT",
      "indeterminate",
      undefined,
    ],
  ])("%s → %s (%s)", (_label, error, code, kind, pspCode) => {
    const classified = toPspError(error, "Doing it");
    expect(classified).toMatchObject({ code, kind, pspCode });
    expect(classified.cause).toBe(error);
    expect(classified.message).toMatch(/^Doing it: /);
  });

  it("keeps the parameter Stripe blamed", () => {
    const error = new errors.StripeInvalidRequestError({
      message: "bad",
      statusCode: 400,
      param: "line_items[0]",
    });
    expect(toPspError(error, "x").param).toBe("line_items[0]");
  });
});

describe("Stripe failures on the wire (fake server)", () => {
  let world: StripeWorld;
  afterEach(async () => world?.fake.close());
  const sessions = () => world.fake.all("checkout.session").length;

  it("answers 429 as retryable and registers nothing; the retry registers once", async () => {
    world = await stripeWorld();
    const input = registrationInput();
    world.fake.failNext("429");
    await expect(world.provider.createHostedPayment(input)).rejects.toMatchObject({
      code: "PSP_UNAVAILABLE",
      kind: "retryable",
      pspCode: "rate_limit",
    });
    expect(sessions()).toBe(0);
    await world.provider.createHostedPayment(input);
    expect(sessions()).toBe(1);
  });

  it("answers a concurrent request with the same key 409: retryable, and one session in the end", async () => {
    world = await stripeWorld();
    const input = registrationInput();
    world.fake.failNext("hold");
    const first = world.provider.createHostedPayment(input);
    // Wait until the first request is held in flight at the fake (no timers: poll its log).
    while (world.fake.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await expect(world.provider.createHostedPayment(input)).rejects.toMatchObject({
      code: "PSP_UNAVAILABLE",
      kind: "retryable",
      pspCode: "idempotency_key_in_use",
    });
    world.fake.release();
    const created = await first;
    expect(await world.provider.createHostedPayment(input)).toEqual(created);
    expect(sessions()).toBe(1);
  });

  it("replays a request whose connection was reset: stripe-node resends it once with the same key", async () => {
    world = await stripeWorld();
    world.fake.failNext("reset");
    const hosted = await world.provider.createHostedPayment(registrationInput());
    const [dropped, resent] = world.fake.requests;
    expect(resent!.idempotencyKey).toBe(dropped!.idempotencyKey);
    expect(resent!.form).toEqual(dropped!.form);
    expect(hosted.status).toBe("requires_payment");
    expect(sessions()).toBe(1);
  });

  it("answers a 500 after the session was created as indeterminate; the retry with the same key gets that session", async () => {
    world = await stripeWorld();
    const input = registrationInput();
    world.fake.failNext("500-lost");
    await expect(world.provider.createHostedPayment(input)).rejects.toMatchObject({
      code: "PSP_TIMEOUT",
      kind: "indeterminate",
    });
    expect(sessions()).toBe(1);
    const retried = await world.provider.createHostedPayment(input);
    expect(retried.pspReference).toBe(world.fake.all<{ id: string }>("checkout.session")[0]!.id);
    expect(sessions()).toBe(1);
  });

  it("keeps a 500 Stripe saved under the key indeterminate on every retry, never a new session", async () => {
    world = await stripeWorld();
    const input = registrationInput();
    world.fake.failNext("500");
    const indeterminate = { code: "PSP_TIMEOUT", kind: "indeterminate", pspCode: "api_error" };
    await expect(world.provider.createHostedPayment(input)).rejects.toMatchObject(indeterminate);
    await expect(world.provider.createHostedPayment(input)).rejects.toMatchObject(indeterminate);
    expect(world.fake.requests.at(-1)!.status).toBe(500);
    expect(sessions()).toBe(1);
  });

  it("refuses the retired payment_method_types the way this API version does", async () => {
    world = await stripeWorld();
    const attempt = world.client.checkout.sessions.create({
      mode: "payment",
      payment_method_types: ["card"],
    } as never);
    await expect(attempt).rejects.toMatchObject({
      statusCode: 400,
      code: "payment_method_types_no_longer_supported",
    });
  });

  it("reports an unknown session as fatal NOT_FOUND", async () => {
    world = await stripeWorld();
    await expect(world.provider.retrievePayment({ pspReference: "cs_test_missing" })).rejects.toMatchObject({
      code: "NOT_FOUND",
      kind: "fatal",
      pspCode: "resource_missing",
    });
  });
});
