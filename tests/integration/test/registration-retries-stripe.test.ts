import { afterEach, describe, expect, it } from "vitest";
import type { StripeWorld } from "./support/stripe-world.js";
import { makeStripeWorld } from "./support/stripe-world.js";
import { cart, DIALECTS, referenceOf } from "./support/world.js";

const MINUTE = 60_000;

/**
 * A registration whose answer Stripe never gave back (a timeout, a 500 on the way back) is
 * retried by the job under the same PSP key, on a clock that moved meanwhile: it must send the
 * first request's parameters, so that Stripe replays the session it made instead of answering
 * 400 `idempotency_error` (which would fail the payment).
 */
describe.each(DIALECTS)("Stripe registrations retried after a lost answer on %s", (dialect) => {
  let world: StripeWorld;
  afterEach(async () => world?.close());

  const sessionPosts = () =>
    world.fake.requests.filter((r) => r.method === "POST" && r.path === "/v1/checkout/sessions");

  it.each([
    ["a timeout", "timeout"],
    ["a 500 after Stripe answered", "500-lost"],
  ] as const)(
    "%s: 202, the clock moves, the job gets the same session — no dead letter",
    async (_label, fault) => {
      world = await makeStripeWorld(dialect, { pspTimeoutMs: 100 });
      world.fake.failNext(fault, (r) => r.path === "/v1/checkout/sessions");
      const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
      expect(created).toMatchObject({ status: 202, body: { status: "created" } });
      const id = String(created.body.id);
      expect(world.fake.all("checkout.session")).toHaveLength(1);
      world.clock.advance(3 * MINUTE);
      expect((await world.work()).jobs).toMatchObject({ claimed: 1, succeeded: 1 });
      const view = await world.system.getPayment(id);
      expect(view).toMatchObject({ status: "requires_payment" });
      const [session] = world.fake.all<{ id: string }>("checkout.session");
      expect(referenceOf(view)).toBe(session!.id);
      const [first, retry] = sessionPosts();
      expect(retry).toMatchObject({ idempotencyKey: first!.idempotencyKey, status: 200, form: first!.form });
      expect(await world.system.listDeadLetters()).toEqual([]);
      world.fake.pay(session!.id, "succeeded");
      await world.deliver();
      expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
    },
  );
});
