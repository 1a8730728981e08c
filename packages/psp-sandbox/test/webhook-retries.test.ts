import { describe, expect, it } from "vitest";
import { startServer } from "./support/http.js";
import { receiverSandboxes, signatureOf } from "./support/receiver-sandbox.js";
import { registrationInput, seconds, T0, testSandbox } from "./support/sandbox-harness.js";

const { setup, cleanups } = receiverSandboxes();

describe("webhook retries", () => {
  it("retries a 500 and a 503 with doubling backoff, re-signing each attempt, then succeeds", async () => {
    const { receiver, sandbox, clock } = await setup();
    receiver.respondWith(500, 503);
    const { pspReference } = await sandbox.createHostedPayment(registrationInput());
    await sandbox.pay(pspReference, { card: "4000000000000002" });
    await sandbox.idle();
    expect(receiver.requests.map((r) => r.status)).toEqual([500]);
    expect(sandbox.deliveries()[0]).toMatchObject({
      outcome: "failed",
      status: 500,
      retryAt: new Date(T0.getTime() + 1_000),
    });
    clock.advance(999);
    await sandbox.tick();
    expect(receiver.requests).toHaveLength(1);
    clock.advance(1);
    await sandbox.tick();
    expect(receiver.requests.map((r) => r.status)).toEqual([500, 503]);
    expect(sandbox.deliveries()[1]).toMatchObject({ attempt: 2, retryAt: new Date(T0.getTime() + 3_000) });
    clock.advance(2_000);
    await sandbox.tick();
    expect(receiver.requests.map((r) => r.status)).toEqual([500, 503, 200]);
    expect(new Set(receiver.requests.map((r) => r.rawBody)).size).toBe(1);
    expect(signatureOf(receiver, 2)).toMatch(new RegExp(`^t=${seconds(T0) + 3},v1=[0-9a-f]{64}$`));
    const last = receiver.requests[2]!;
    const [event] = await sandbox.parseWebhook({
      rawBody: last.rawBody,
      headers: last.headers,
      now: clock.now(),
    });
    expect(event).toMatchObject({ kind: "payment", status: "failed", failureCode: "card_declined" });
    expect(sandbox.deliveries().map((d) => [d.attempt, d.outcome])).toEqual([
      [1, "failed"],
      [2, "failed"],
      [3, "delivered"],
    ]);
  });

  it("gives up after the configured attempts", async () => {
    const { receiver, sandbox, clock } = await setup({ webhookRetry: { attempts: 2, baseMs: 10 } });
    receiver.respondWith(500, 500, 500);
    const { pspReference } = await sandbox.createHostedPayment(registrationInput());
    await sandbox.pay(pspReference);
    await sandbox.idle();
    clock.advance(10);
    await sandbox.tick();
    clock.advance(1_000_000);
    await sandbox.tick();
    expect(receiver.requests).toHaveLength(2);
    const last = sandbox.deliveries().at(-1)!;
    expect(last).toMatchObject({ attempt: 2, outcome: "failed", status: 500 });
    expect(last.retryAt).toBeUndefined();
  });

  it("treats a refused connection as a failed attempt and retries it", async () => {
    const closed = await startServer((_req, res) => res.end());
    const url = `${closed.origin}/hook`;
    await closed.close();
    const { sandbox } = testSandbox({ webhookUrl: url });
    cleanups.push(() => sandbox.close());
    const { pspReference } = await sandbox.createHostedPayment(registrationInput());
    await sandbox.pay(pspReference);
    await sandbox.idle();
    const [delivery] = sandbox.deliveries();
    expect(delivery).toMatchObject({ outcome: "failed", retryAt: new Date(T0.getTime() + 1_000) });
    expect(delivery!.status).toBeUndefined();
    expect(delivery!.error).toEqual(expect.any(String));
  });
});
