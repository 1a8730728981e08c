import { afterEach, describe, expect, it } from "vitest";
import { REBASE_STEP_MS } from "../src/registration.js";
import type { StripeWorld } from "./support/harness.js";
import { stripeWorld, T0 } from "./support/harness.js";
import { registrationInput } from "./support/inputs.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * A registration whose answer was lost is retried under the same key, possibly much later: every
 * parameter it sends must be the one the first request sent, or Stripe answers 400
 * `idempotency_error` (the fake does too) and the registration dead-letters.
 */
describe("createHostedPayment retried on a clock that moved", () => {
  let world: StripeWorld;
  afterEach(async () => world?.fake.close());

  const posted = () =>
    world.fake.requests.filter((r) => r.method === "POST" && r.path === "/v1/checkout/sessions");
  const sessions = () => world.fake.all<{ id: string; expires_at: number }>("checkout.session");
  const lostAnswer = async (input: ReturnType<typeof registrationInput>, made = 1) => {
    world.fake.failNext("timeout", (r) => r.path === "/v1/checkout/sessions");
    await expect(world.provider.createHostedPayment(input)).rejects.toMatchObject({ kind: "indeterminate" });
    expect(sessions()).toHaveLength(made);
  };

  it.each([
    ["a 24-hour payment, retried 5 minutes on", DAY, 5 * MINUTE],
    ["a 24-hour payment, retried 23 hours on", DAY, 23 * HOUR],
    ["a 2-hour payment, retried an hour on", 2 * HOUR, HOUR],
    ["a 10-minute payment, retried 30 seconds on", 10 * MINUTE, 30_000],
  ])("%s: the same key, the same expires_at, the same session", async (_label, ttl, later) => {
    world = await stripeWorld({}, { timeout: 200 });
    const input = registrationInput({ expiresAt: new Date(T0.getTime() + ttl) });
    await lostAnswer(input);
    world.clock.advance(later);
    const retried = await world.provider.createHostedPayment(input);
    expect(retried.pspReference).toBe(sessions()[0]!.id);
    const [first, second] = posted();
    expect(second!.idempotencyKey).toBe(first!.idempotencyKey);
    expect(second!.form.expires_at).toBe(first!.form.expires_at);
    expect(second!.status).toBe(200);
    expect(sessions()).toHaveLength(1);
  });

  it("measures a later attempt's window from the payment's creation too (stored, not the clock)", async () => {
    world = await stripeWorld({}, { timeout: 200 });
    world.clock.advance(3 * HOUR);
    const input = registrationInput({
      expiresAt: new Date(T0.getTime() + DAY),
      idempotencyKey: "chk:register:2",
    });
    await lostAnswer(input);
    world.clock.advance(10 * MINUTE);
    const retried = await world.provider.createHostedPayment(input);
    expect(retried.pspReference).toBe(sessions()[0]!.id);
    expect(retried.expiresAt).toEqual(new Date(T0.getTime() + DAY - MINUTE));
  });

  it("re-bases a retry that comes after Stripe's window on a derived key, fixed for its own window", async () => {
    world = await stripeWorld({}, { timeout: 200 });
    const input = registrationInput({
      expiresAt: new Date(T0.getTime() + 3 * DAY),
      idempotencyKey: "chk:register:1",
    });
    await lostAnswer(input);
    // 23 h 45 min on: `expires_at` T0 + 24 h − 1 min is less than 30 minutes ahead, Stripe would
    // refuse it. The renewed request's answer is lost too; its retry, in the same window, finds it.
    world.clock.advance(23 * HOUR + 45 * MINUTE);
    await lostAnswer(input, 2);
    world.clock.advance(REBASE_STEP_MS - 1_000);
    const renewed = await world.provider.createHostedPayment(input);
    const k = Math.floor((23 * HOUR + 45 * MINUTE) / REBASE_STEP_MS) + 1;
    const [, lost, retried] = posted();
    expect(lost!.idempotencyKey).toBe(`chk:register:1:w${k}`);
    expect(retried!.idempotencyKey).toBe(lost!.idempotencyKey);
    expect(retried!.form.expires_at).toBe(lost!.form.expires_at);
    expect(renewed.pspReference).toBe(sessions().at(-1)!.id);
    const sentAt = T0.getTime() + 23 * HOUR + 45 * MINUTE;
    const ahead = renewed.expiresAt!.getTime() - sentAt;
    expect(ahead).toBeGreaterThanOrEqual(30 * MINUTE);
    expect(ahead).toBeLessThanOrEqual(DAY);
    expect(sessions()).toHaveLength(2);
  });

  it("re-bases a short deadline retried after its first minute, inside Stripe's window", async () => {
    world = await stripeWorld({}, { timeout: 200 });
    const input = registrationInput({ expiresAt: new Date(T0.getTime() + 10 * MINUTE) });
    world.fake.failNext("503", (r) => r.path === "/v1/checkout/sessions");
    await expect(world.provider.createHostedPayment(input)).rejects.toMatchObject({ kind: "indeterminate" });
    world.clock.advance(2 * MINUTE);
    const hosted = await world.provider.createHostedPayment(input);
    const ahead = hosted.expiresAt!.getTime() - world.clock.now().getTime();
    expect(ahead).toBeGreaterThanOrEqual(30 * MINUTE);
    expect(posted().at(-1)!.idempotencyKey).toBe(`${input.idempotencyKey}:w1`);
  });
});
