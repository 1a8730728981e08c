import { afterEach } from "vitest";
import type { WebhookReceiver } from "./http.js";
import { startReceiver } from "./http.js";
import { testSandbox } from "./sandbox-harness.js";

/**
 * Registers an `afterEach` that closes, newest first, what `setup` opened (a real HTTP webhook
 * receiver and a sandbox posting its webhooks there) and anything a test hands to `cleanups`.
 */
export function receiverSandboxes() {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  async function setup(options: Parameters<typeof testSandbox>[0] = {}) {
    const receiver = await startReceiver();
    const { sandbox, clock } = testSandbox({ webhookUrl: receiver.url, ...options });
    cleanups.push(
      () => receiver.close(),
      () => sandbox.close(),
    );
    return { receiver, sandbox, clock };
  }
  return { setup, cleanups };
}

/** The signature header of the receiver's i-th request. */
export const signatureOf = (r: WebhookReceiver, i: number) =>
  r.requests[i]!.headers["settlekit-sandbox-signature"];
