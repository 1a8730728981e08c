import { sandboxProvider } from "@settlekit/psp-sandbox";
import { afterEach, describe, expect, it } from "vitest";
import type { World } from "./support/world.js";
import { cart, DIALECTS, makeWorld } from "./support/world.js";

describe.each(DIALECTS)("phase 3 when the payment moved during the PSP call, on %s", (dialect) => {
  let world: World;
  let release: () => void = () => {};
  afterEach(async () => {
    release();
    await world?.close();
  });

  it("sees the change (nothing written twice), keeps the newer state and still answers", async () => {
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    const inner = sandboxProvider({ baseUrl: "http://shop.test/sandbox", webhookSecret: "whsec_race" });
    const slow = Object.assign(Object.create(inner) as typeof inner, {
      async createHostedPayment(input: Parameters<typeof inner.createHostedPayment>[0]) {
        calls++;
        await gate;
        return inner.createHostedPayment(input);
      },
    });
    world = await makeWorld(dialect, { providers: [slow] });
    const pending = world.system.createPayment(cart(), { idempotencyKey: "race" });
    while (calls === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    // While the PSP call is in flight, something else moves the payment on (say an operator
    // cancels it): phase 3's optimistic write must notice instead of overwriting it.
    const id = (await world.store.knex("settlekit_payments").first("id")).id as string;
    await world.store.transaction(async (tx) => {
      const payment = (await tx.payments.get(id))!;
      expect(
        await tx.payments.update({
          ...payment,
          status: "canceled",
          version: payment.version + 1,
          updatedAt: world.clock.now(),
        }),
      ).toBe(true);
    });
    release();
    const result = await pending;
    expect(result.status).toBe(201);
    expect(result.body).toMatchObject({ id, status: "canceled", redirect_url: null });
    expect(await world.system.getPayment(id)).toMatchObject({ status: "canceled" });
    const outbox = await world.store.knex("settlekit_outbox").where({ aggregate_id: id }).orderBy("seq");
    expect(outbox.map((e) => e.type)).toEqual(["payment.created"]);
    await inner.close();
  });
});
