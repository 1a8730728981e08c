import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sandboxProvider } from "../src/index.js";
import { startReceiver } from "./support/http.js";
import { receiverSandboxes, signatureOf } from "./support/receiver-sandbox.js";
import { registrationInput, SECRET, seconds, T0, testSandbox } from "./support/sandbox-harness.js";

const { setup, cleanups } = receiverSandboxes();

describe("webhook delivery over HTTP", () => {
  it("POSTs each event as JSON, signed with Stripe's scheme, and the provider verifies it", async () => {
    const { receiver, sandbox, clock } = await setup();
    const { pspReference } = await sandbox.createHostedPayment(registrationInput({ paymentId: "pay_d1" }));
    await sandbox.pay(pspReference);
    await sandbox.idle();
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    const event = sandbox.events()[0]!;
    expect(request!.rawBody).toBe(event.rawBody);
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers["user-agent"]).toBe("settlekit-psp-sandbox/0.1.0");
    const t = seconds(T0);
    const digest = createHmac("sha256", SECRET).update(`${t}.${request!.rawBody}`).digest("hex");
    expect(signatureOf(receiver, 0)).toBe(`t=${t},v1=${digest}`);
    expect(JSON.parse(request!.rawBody)).toEqual({
      id: event.id,
      type: "payment.succeeded",
      created: t,
      data: {
        payment: {
          reference: pspReference,
          payment_id: "pay_d1",
          status: "succeeded",
          amount: "12345",
          currency: "USD",
          amount_refunded: "0",
          method: "card",
          instrument: "credit_card",
          last4: "4242",
          failure_code: null,
          failure_message: null,
          metadata: { cart: "c1" },
        },
      },
    });
    const parsed = await sandbox.parseWebhook({
      rawBody: request!.rawBody,
      headers: request!.headers,
      now: clock.now(),
    });
    expect(parsed).toEqual([
      {
        kind: "payment",
        eventId: event.id,
        pspReference,
        paymentId: "pay_d1",
        status: "succeeded",
        amount: 12_345n,
        currency: "USD",
        instrument: "credit_card",
        occurredAt: T0,
      },
    ]);
    expect(sandbox.deliveries()).toMatchObject([
      { eventId: event.id, attempt: 1, outcome: "delivered", status: 200 },
    ]);
  });

  it("runs on real timers with the system clock: a transfer settles and both webhooks arrive", async () => {
    const receiver = await startReceiver();
    const sandbox = sandboxProvider({
      baseUrl: "http://sandbox.test",
      webhookUrl: receiver.url,
      webhookSecret: SECRET,
      bankTransferSettleMs: 20,
    });
    cleanups.push(
      () => receiver.close(),
      () => sandbox.close(),
    );
    const now = new Date();
    const input = registrationInput({ method: "bank_transfer", createdAt: now });
    const { pspReference } = await sandbox.createHostedPayment(input);
    await sandbox.pay(pspReference, { method: "bank_transfer" });
    const requests = await receiver.received(2);
    const types = requests.map((r) => JSON.parse(r.rawBody).type);
    expect(types).toEqual(["payment.processing", "payment.succeeded"]);
    const events = await sandbox.parseWebhook({
      rawBody: requests[1]!.rawBody,
      headers: requests[1]!.headers,
    });
    expect(events[0]).toMatchObject({ kind: "payment", status: "succeeded", instrument: "bank_transfer" });
  });
});

describe("webhook delivery concurrency", () => {
  /** A fetch that holds every POST until released, counting how many are in flight at once. */
  function gatedFetch() {
    const gates: (() => void)[] = [];
    const state = { inFlight: 0, maxInFlight: 0, bodies: [] as string[] };
    const fetch = (async (_url: string, init?: RequestInit) => {
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      state.bodies.push(String(init?.body));
      await new Promise<void>((resolve) => gates.push(resolve));
      state.inFlight--;
      return new Response("{}", { status: 200 });
    }) as typeof globalThis.fetch;
    const releaseAll = async () => {
      while (gates.length > 0 || state.inFlight > 0) {
        for (const open of gates.splice(0)) open();
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    return { fetch, state, releaseAll };
  }

  async function payFive(webhookConcurrency?: number) {
    const gated = gatedFetch();
    const { sandbox } = testSandbox({
      webhookUrl: "http://host.test/webhooks",
      fetch: gated.fetch,
      ...(webhookConcurrency ? { webhookConcurrency } : {}),
    });
    const refs: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { pspReference } = await sandbox.createHostedPayment(
        registrationInput({ paymentId: `pay_c${i}` }),
      );
      refs.push(pspReference);
      await sandbox.pay(pspReference);
    }
    await new Promise((resolve) => setImmediate(resolve));
    const inFlightBeforeRelease = gated.state.inFlight;
    const idle = sandbox.idle();
    await gated.releaseAll();
    await idle;
    const delivered = sandbox.deliveries().filter((d) => d.outcome === "delivered");
    return { inFlightBeforeRelease, gated, delivered, refs };
  }

  it("delivers one at a time, in order, by default", async () => {
    const { inFlightBeforeRelease, gated, delivered, refs } = await payFive();
    expect(inFlightBeforeRelease).toBe(1);
    expect(gated.state.maxInFlight).toBe(1);
    expect(gated.state.bodies.map((b) => JSON.parse(b).data.payment.reference)).toEqual(refs);
    expect(delivered).toHaveLength(5);
  });

  it("keeps up to webhookConcurrency POSTs in flight, each event delivered once", async () => {
    const { inFlightBeforeRelease, gated, delivered } = await payFive(3);
    expect(inFlightBeforeRelease).toBe(3);
    expect(gated.state.maxInFlight).toBe(3);
    expect(new Set(delivered.map((d) => d.eventId)).size).toBe(5);
    expect(gated.state.bodies).toHaveLength(5);
  });

  it("rejects a webhookConcurrency that is not a positive integer", () => {
    for (const webhookConcurrency of [0, -1, 1.5]) {
      expect(() => testSandbox({ webhookConcurrency })).toThrow(/webhookConcurrency/);
    }
  });
});
