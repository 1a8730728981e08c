import { describe, expect, it } from "vitest";
import { cart, makeWorld, referenceOf } from "../support/world.js";

describe("createPayment (memory store, fake PSP)", () => {
  it("stores the payment and its orders, registers it once and answers the hosted page", async () => {
    const world = makeWorld();
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    expect(created.replayed).toBe(false);
    expect(created.payment).toMatchObject({
      status: "requires_payment",
      amount: 12_345n,
      currency: "USD",
      nextAction: { type: "redirect_to_psp" },
      orders: [
        { sellerId: "S1", amount: 10_000n, currency: "USD", status: "pending" },
        { sellerId: "S2", amount: 2_345n, currency: "USD", status: "pending" },
      ],
      refunds: [],
    });
    expect(created.payment.createdAt).toBeInstanceOf(Date);
    const id = created.payment.id;
    expect(await world.psp.registrations()).toBe(1);
    const retrieved = await world.psp.provider.retrievePayment({
      pspReference: referenceOf(created.payment),
    });
    expect(retrieved).toMatchObject({ paymentId: id, amount: 12_345n, currency: "USD" });
    expect(await world.outboxTypes(id)).toEqual(["payment.created", "payment.registered"]);
    expect(await world.store.inspect.count("payments")).toBe(1);
    expect(await world.store.inspect.count("payment_orders")).toBe(2);
    expect(await world.store.inspect.count("journals")).toBe(0);
  });

  it("answers a repeated key with the stored response and registers nothing more", async () => {
    const world = makeWorld();
    const first = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    const again = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    expect(again).toEqual({ ...first, replayed: true });
    expect(await world.psp.registrations()).toBe(1);
    expect(await world.store.inspect.count("payments")).toBe(1);
    await expect(
      world.system.createPayment(cart({ currency: "EUR" }), { idempotencyKey: "click-1" }),
    ).rejects.toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED" });
  });

  it("refuses bad input before writing anything", async () => {
    const world = makeWorld();
    await expect(
      world.system.createPayment(cart({ orders: [{ sellerId: "S1", amount: 0n }] }), {
        idempotencyKey: "k",
      }),
    ).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    await expect(world.system.createPayment(cart(), { idempotencyKey: "" })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      param: "idempotency_key",
    });
    expect(await world.store.inspect.count("payments")).toBe(0);
    expect(await world.store.inspect.count("idempotency_keys")).toBe(0);
  });

  it("queues the registration when the PSP is down (202), and the worker registers it with the same key", async () => {
    const world = makeWorld();
    world.psp.failNextRegistration("unavailable");
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    expect(created.payment).toMatchObject({ status: "created", nextAction: { type: "wait" } });
    const id = created.payment.id;
    expect(await world.psp.registrations()).toBe(0);
    world.clock.advance(60_000);
    await world.work();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "requires_payment" });
    expect(await world.psp.registrations()).toBe(1);
  });

  it("keeps the registration the PSP made when its answer was lost, and never registers twice", async () => {
    const world = makeWorld();
    world.psp.failNextRegistration("timeout");
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    expect(created.payment.status).toBe("created");
    expect(await world.psp.registrations()).toBe(1);
    world.clock.advance(60_000);
    await world.work();
    const view = await world.system.getPayment(created.payment.id);
    expect(view).toMatchObject({ status: "requires_payment" });
    expect(await world.psp.registrations()).toBe(1);
  });
});
