import type { Logger } from "@settlekit/core";
import type { SandboxProvider } from "@settlekit/psp-sandbox";
import { sandboxProvider, WebhookDeliveryError } from "@settlekit/psp-sandbox";
import { afterEach, describe, expect, it } from "vitest";
import type { Dialect, HostWorld } from "./support/world.js";
import { cart, DIALECTS, makeHostWorld, referenceOf } from "./support/world.js";

const MINUTE = 60_000;

/**
 * A host that serves webhooks where the router does (`/v1/webhooks/sandbox`) and answers 404
 * anywhere else, with a sandbox posting to `webhookUrl`: the README's old snippet
 * (`/webhooks/sandbox`) reproduces a new user's mistake. What the system and the sandbox report
 * is recorded.
 */
async function makeHost(dialect: Dialect, webhookUrl: string) {
  const warnings: { message: string; details?: Readonly<Record<string, unknown>> }[] = [];
  const logger: Logger = {
    warn: (message, details) => void warnings.push({ message, details }),
    error: () => {},
  };
  const sandboxErrors: unknown[] = [];
  const sandboxLines: string[] = [];
  let sandbox: SandboxProvider | undefined;
  const world = await makeHostWorld(dialect, { logger }, async (host) => {
    sandbox = sandboxProvider({
      baseUrl: "http://shop.test/sandbox",
      webhookUrl,
      webhookSecret: "whsec_missed",
      clock: host.clock,
      webhookRetry: { attempts: 5, baseMs: 1_000 },
      onError: (error) => void sandboxErrors.push(error),
      logger: { error: (message) => void sandboxLines.push(message) },
      fetch: (async (url: string | URL | Request, init?: RequestInit) => {
        if (new URL(String(url)).pathname !== "/v1/webhooks/sandbox")
          return new Response("Not Found", { status: 404 });
        const headers = Object.fromEntries(new Headers(init?.headers).entries());
        return new Response("{}", {
          status: await host.receive("sandbox", String(init?.body ?? ""), headers),
        });
      }) as typeof fetch,
    });
    return { provider: sandbox, deliver: () => sandbox!.idle(), close: () => sandbox!.close() };
  });
  /** A buyer pays a new payment; the sandbox tries its webhook with every retry (15 s). */
  const payOne = async (key: string) => {
    const created = await world.system.createPayment(cart(), { idempotencyKey: key });
    await sandbox!.pay(referenceOf(created.body));
    await world.deliver();
    for (const wait of [1_000, 2_000, 4_000, 8_000]) {
      world.clock.advance(wait);
      await sandbox!.tick();
      await world.deliver();
    }
    return String(created.body.id);
  };
  return { world, sandbox: sandbox!, warnings, sandboxErrors, sandboxLines, payOne };
}

describe.each(DIALECTS)("webhooks that never arrive, on %s", (dialect) => {
  let world: HostWorld | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("a wrong webhook URL (404) is reported by the sandbox, and the system warns once per PSP and hour when the sweeper settles the payments", async () => {
    const host = await makeHost(dialect, "http://shop.test/webhooks/sandbox");
    world = host.world;
    const ids = [await host.payOne("k1"), await host.payOne("k2"), await host.payOne("k3")];

    // Each payment's webhook failed for good: the sandbox says so, once per webhook.
    expect(host.sandboxErrors).toHaveLength(3);
    expect(host.sandboxErrors.every((e) => e instanceof WebhookDeliveryError)).toBe(true);
    expect(host.sandboxErrors[0]).toMatchObject({
      url: "http://shop.test/webhooks/sandbox",
      delivery: { attempt: 5, status: 404 },
    });
    expect(host.sandboxLines).toHaveLength(3);
    expect(host.sandboxLines[0]).toMatch(/failed after 5 attempts \(HTTP 404\)/);
    for (const id of ids)
      expect(await world.system.getPayment(id)).toMatchObject({ status: "requires_payment" });
    expect(host.warnings).toEqual([]);

    // 15 minutes on, the sweeper polls the sandbox and settles them: the system warns, once.
    world.clock.advance(15 * MINUTE);
    expect((await world.work()).sweep).toMatchObject({ changed: 3 });
    for (const id of ids) expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
    expect(host.warnings).toEqual([
      {
        message:
          "no webhook received for 3 payments from sandbox in the last hour: check the webhook URL and secret",
        details: { psp: "sandbox", payments: 3, paymentIds: expect.arrayContaining(ids) },
      },
    ]);

    // Another one within the hour: settled, counted, not warned about again.
    const fourth = await host.payOne("k4");
    world.clock.advance(15 * MINUTE);
    expect((await world.work()).sweep).toMatchObject({ changed: 1 });
    expect(await world.system.getPayment(fourth)).toMatchObject({ status: "succeeded" });
    expect(host.warnings).toHaveLength(1);

    // An hour after the warning, the next one warns again, counting the last hour only.
    world.clock.advance(60 * MINUTE);
    await host.payOne("k5");
    world.clock.advance(15 * MINUTE);
    expect((await world.work()).sweep).toMatchObject({ changed: 1 });
    expect(host.warnings.map((w) => w.message)).toEqual([
      "no webhook received for 3 payments from sandbox in the last hour: check the webhook URL and secret",
      "no webhook received for 1 payment from sandbox in the last hour: check the webhook URL and secret",
    ]);
  });

  it("with the router's URL the webhooks arrive: nothing is reported", async () => {
    const host = await makeHost(dialect, "http://shop.test/v1/webhooks/sandbox");
    world = host.world;
    const id = await host.payOne("k1");
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
    world.clock.advance(16 * MINUTE);
    await world.work();
    expect(host.sandboxErrors).toEqual([]);
    expect(host.sandboxLines).toEqual([]);
    expect(host.warnings).toEqual([]);
  });
});
