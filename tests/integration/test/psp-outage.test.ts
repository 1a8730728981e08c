import type { TcpProxy } from "@settlekit/core/testing";
import { tcpProxy } from "@settlekit/core/testing";
import { stripeProvider } from "@settlekit/psp-stripe";
import { FakeStripe } from "@settlekit/psp-stripe/testing";
import Stripe from "stripe";
import { afterEach, describe, expect, it } from "vitest";
import { STRIPE_ACCOUNTS, STRIPE_WEBHOOK_SECRET } from "./support/stripe-world.js";
import type { Dialect, HostWorld } from "./support/world.js";
import { cart, DIALECTS, makeHostWorld, referenceOf } from "./support/world.js";

/**
 * The PSP goes away for real: stripe-node talks to the fake Stripe server through a TCP proxy
 * that the test cuts (connections refused) and restores. Payments taken meanwhile are queued
 * (202), retried by the job with backoff while the PSP stays down, and registered — once each —
 * when it is back; then they are paid and settle like any other.
 */
async function worldBehindProxy(dialect: Dialect) {
  let fake: FakeStripe | undefined;
  let proxy: TcpProxy | undefined;
  const world = await makeHostWorld(dialect, { pspTimeoutMs: 2_000 }, async (host) => {
    fake = await FakeStripe.start({
      clock: host.clock,
      webhookSecret: STRIPE_WEBHOOK_SECRET,
      accounts: Object.values(STRIPE_ACCOUNTS),
      async onWebhook({ rawBody, headers }) {
        await host.receive("stripe", rawBody, headers);
      },
    });
    proxy = await tcpProxy({ targets: { host: "127.0.0.1", port: Number(new URL(fake.origin).port) } });
    const client = new Stripe("sk_test_fake", {
      host: "127.0.0.1",
      port: proxy.port,
      protocol: "http",
      maxNetworkRetries: 0,
      telemetry: false,
      timeout: 2_000,
    });
    return {
      provider: stripeProvider({
        client,
        webhookSecret: STRIPE_WEBHOOK_SECRET,
        clock: host.clock,
        connectedAccount: (sellerId) => STRIPE_ACCOUNTS[sellerId],
      }),
      deliver: () => fake!.deliver(),
      close: async () => {
        await proxy?.cut().catch(() => undefined);
        await fake!.close();
      },
    };
  });
  return { world, fake: fake!, proxy: proxy! };
}

describe.each(DIALECTS)("the PSP down and back (a real outage, over TCP) on %s", (dialect) => {
  let world: HostWorld | undefined;
  afterEach(async () => world?.close());

  it("payments taken while the PSP is down queue for retry and complete once it returns, each registered once", async () => {
    const setup = await worldBehindProxy(dialect);
    world = setup.world;
    const { fake, proxy } = setup;
    await proxy.cut();
    const ids: string[] = [];
    for (const key of ["k1", "k2", "k3"]) {
      const created = await world.system.createPayment(cart(), { idempotencyKey: key });
      // Accepted and queued, not failed: the buyer is told to wait.
      expect(created).toMatchObject({
        status: 202,
        body: { status: "created", next_action: { type: "wait" } },
      });
      ids.push(String(created.body.id));
    }
    // The outage lasts: every pass retries, with growing backoff, and nothing is dead-lettered.
    let retried = 0;
    for (let pass = 0; pass < 4; pass++) {
      world.clock.advance(60_000);
      retried += (await world.work()).jobs.retried;
    }
    expect(retried).toBeGreaterThanOrEqual(6);
    expect(await world.system.listDeadLetters()).toEqual([]);
    for (const id of ids) expect(await world.system.getPayment(id)).toMatchObject({ status: "created" });
    expect(fake.all("checkout.session")).toHaveLength(0);

    await proxy.restore();
    for (let pass = 0; pass < 6 && fake.all("checkout.session").length < ids.length; pass++) {
      world.clock.advance(10 * 60_000);
      await world.work();
    }
    expect(fake.all("checkout.session")).toHaveLength(3); // once each, no double registration
    for (const id of ids) {
      const view = await world.system.getPayment(id);
      expect(view).toMatchObject({ status: "requires_payment", next_action: { type: "redirect_to_psp" } });
      fake.pay(referenceOf(view), "succeeded");
    }
    await world.deliver();
    for (const id of ids) expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
    expect(await world.system.listDeadLetters()).toEqual([]);
  });
});
