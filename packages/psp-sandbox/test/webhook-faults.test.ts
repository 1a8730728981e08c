import { afterEach, describe, expect, it } from "vitest";
import { startReceiver } from "./support/http.js";
import { registrationInput, T0, testSandbox } from "./support/sandbox-harness.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function recorded() {
  const created = testSandbox();
  cleanups.push(() => created.sandbox.close());
  return created;
}

const refundInput = (pspReference: string, amount: bigint) => ({
  pspReference,
  refundId: `rf_${amount}`,
  amount,
  currency: "USD",
  idempotencyKey: `rfk_${amount}`,
});

describe("webhook faults", () => {
  it("duplicate: the next event is delivered twice with the same id; later ones once", async () => {
    const receiver = await startReceiver();
    const { sandbox } = testSandbox({ webhookUrl: receiver.url });
    cleanups.push(
      () => receiver.close(),
      () => sandbox.close(),
    );
    sandbox.faults.duplicateNextWebhook();
    const { pspReference } = await sandbox.createHostedPayment(registrationInput());
    await sandbox.pay(pspReference);
    await sandbox.refund(refundInput(pspReference, 45n));
    await sandbox.idle();
    const ids = receiver.requests.map((r) => JSON.parse(r.rawBody).id);
    const [succeeded, refunded] = sandbox.events();
    expect(ids).toEqual([succeeded!.id, succeeded!.id, refunded!.id]);
    expect(receiver.requests[0]!.rawBody).toBe(receiver.requests[1]!.rawBody);
  });

  it("drop: the next event is never delivered but stays in events() for delivery by hand", async () => {
    const { sandbox, clock } = recorded();
    sandbox.faults.dropNextWebhook();
    const { pspReference } = await sandbox.createHostedPayment(registrationInput());
    await sandbox.pay(pspReference);
    await sandbox.refund(refundInput(pspReference, 45n));
    const [dropped, refunded] = sandbox.events();
    expect(sandbox.deliveries().map((d) => d.eventId)).toEqual([refunded!.id]);
    const parsed = await sandbox.parseWebhook({
      rawBody: dropped!.rawBody,
      headers: dropped!.headers,
      now: clock.now(),
    });
    expect(parsed).toMatchObject([{ kind: "payment", eventId: dropped!.id, status: "succeeded" }]);
  });

  it("delay: the next event goes out when the clock reaches the delay", async () => {
    const { sandbox, clock } = recorded();
    sandbox.faults.delayNextWebhook(5_000);
    const { pspReference } = await sandbox.createHostedPayment(registrationInput());
    await sandbox.pay(pspReference);
    expect(sandbox.deliveries()).toEqual([]);
    clock.advance(4_999);
    await sandbox.tick();
    expect(sandbox.deliveries()).toEqual([]);
    clock.advance(1);
    await sandbox.tick();
    expect(sandbox.deliveries()).toMatchObject([
      { type: "payment.succeeded", sentAt: new Date(T0.getTime() + 5_000) },
    ]);
  });

  it("hold and release in reverse: a real receiver sees the newest event first", async () => {
    const receiver = await startReceiver();
    const { sandbox } = testSandbox({ webhookUrl: receiver.url });
    cleanups.push(
      () => receiver.close(),
      () => sandbox.close(),
    );
    sandbox.faults.holdWebhooks();
    const { pspReference } = await sandbox.createHostedPayment(
      registrationInput({ method: "bank_transfer" }),
    );
    await sandbox.pay(pspReference, { method: "bank_transfer" });
    await sandbox.settle(pspReference);
    await sandbox.refund(refundInput(pspReference, 100n));
    await sandbox.idle();
    expect(receiver.requests).toEqual([]);
    sandbox.faults.releaseWebhooks({ order: "reverse" });
    await sandbox.idle();
    expect(receiver.requests.map((r) => JSON.parse(r.rawBody).type)).toEqual([
      "refund.succeeded",
      "payment.succeeded",
      "payment.processing",
    ]);
  });

  it("hold and release first-in first-out keeps the original order", async () => {
    const { sandbox } = recorded();
    sandbox.faults.holdWebhooks();
    const { pspReference } = await sandbox.createHostedPayment(registrationInput());
    await sandbox.pay(pspReference, { card: "4000000000000002" });
    await sandbox.pay(pspReference);
    expect(sandbox.deliveries()).toEqual([]);
    sandbox.faults.releaseWebhooks();
    expect(sandbox.deliveries().map((d) => d.type)).toEqual(["payment.failed", "payment.succeeded"]);
  });
});
