import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sandboxProvider } from "../src/index.js";
import { startReceiver } from "./support/http.js";
import { receiverSandboxes, signatureOf } from "./support/receiver-sandbox.js";
import { registrationInput, SECRET, seconds, T0 } from "./support/sandbox-harness.js";

const { setup, cleanups } = receiverSandboxes();

describe("webhook delivery over HTTP", () => {
  it("POSTs each event as JSON, signed with Stripe's scheme, and the provider verifies it", async () => {
    const { receiver, sandbox, clock } = await setup();
    const { pspReference } = await sandbox.createHostedPayment(registrationInput({ checkoutId: "chk_d1" }));
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
          checkout_id: "chk_d1",
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
        checkoutId: "chk_d1",
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
