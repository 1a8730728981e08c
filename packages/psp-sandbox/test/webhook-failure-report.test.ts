import { describe, expect, it } from "vitest";
import { WebhookDeliveryError } from "../src/index.js";
import { startServer } from "./support/http.js";
import { receiverSandboxes } from "./support/receiver-sandbox.js";
import { registrationInput, testSandbox } from "./support/sandbox-harness.js";

const { setup, cleanups } = receiverSandboxes();

/** What the sandbox reported: `onError` calls and lines logged at error level. */
function reports() {
  const errors: unknown[] = [];
  const lines: string[] = [];
  return {
    errors,
    lines,
    options: {
      onError: (error: unknown) => void errors.push(error),
      logger: { error: (message: string) => void lines.push(message) },
    },
  };
}

describe("a webhook delivery that failed for good", () => {
  it("is reported to onError and logged at error level once, after its last retry (404: a wrong webhookUrl)", async () => {
    const seen = reports();
    const { receiver, sandbox, clock } = await setup({
      webhookRetry: { attempts: 3, baseMs: 1_000 },
      ...seen.options,
    });
    receiver.respondWith(404, 404, 404);
    const { pspReference } = await sandbox.createHostedPayment(registrationInput());
    await sandbox.pay(pspReference);
    await sandbox.idle();
    clock.advance(1_000);
    await sandbox.tick();
    // Retries are not failures yet: nothing reported while attempts remain.
    expect(seen.errors).toEqual([]);
    expect(seen.lines).toEqual([]);
    clock.advance(2_000);
    await sandbox.tick();

    expect(receiver.requests.map((r) => r.status)).toEqual([404, 404, 404]);
    expect(seen.errors).toHaveLength(1);
    const [error] = seen.errors as WebhookDeliveryError[];
    expect(error).toBeInstanceOf(WebhookDeliveryError);
    expect(error).toMatchObject({
      code: "WEBHOOK_DELIVERY_FAILED",
      url: receiver.url,
      delivery: { type: "payment.succeeded", attempt: 3, outcome: "failed", status: 404 },
    });
    expect(seen.lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^\\[settlekit/psp-sandbox\\] webhook evt_\\S+ \\(payment\\.succeeded\\) to ${receiver.url} failed after 3 attempts \\(HTTP 404\\)`,
        ),
      ),
    ]);
    expect(seen.lines[0]).toContain("check the host's webhook URL and secret");
  });

  it("reports a host that cannot be reached, with the network error", async () => {
    const seen = reports();
    const closed = await startServer(() => undefined);
    const url = `${closed.origin}/v1/webhooks/sandbox`;
    await closed.close(); // nothing listens there any more
    const { sandbox } = testSandbox({
      webhookUrl: url,
      webhookRetry: { attempts: 1, baseMs: 0 },
      ...seen.options,
    });
    cleanups.push(() => sandbox.close());
    const { pspReference } = await sandbox.createHostedPayment(registrationInput());
    await sandbox.pay(pspReference);
    await sandbox.idle();
    expect(seen.errors).toEqual([
      expect.objectContaining({ url, delivery: expect.objectContaining({ attempt: 1 }) }),
    ]);
    expect((seen.errors[0] as WebhookDeliveryError).delivery.error).toBeTruthy();
    expect(seen.lines).toEqual([expect.stringContaining(`to ${url} failed after 1 attempt (`)]);
  });

  it("is logged once by default: the default onError does not repeat the line", async () => {
    const lines: string[] = [];
    const { receiver, sandbox } = await setup({
      webhookRetry: { attempts: 1, baseMs: 0 },
      logger: { error: (message: string) => void lines.push(message) },
    });
    receiver.respondWith(404);
    const { pspReference } = await sandbox.createHostedPayment(registrationInput());
    await sandbox.pay(pspReference);
    await sandbox.idle();
    expect(lines).toEqual([expect.stringContaining("failed after 1 attempt (HTTP 404)")]);
  });
});
