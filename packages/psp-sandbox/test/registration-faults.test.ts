import { afterEach, describe, expect, it } from "vitest";
import { registrationInput, testSandbox } from "./support/sandbox-harness.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function recorded() {
  const created = testSandbox();
  cleanups.push(() => created.sandbox.close());
  return created;
}

describe("registration faults", () => {
  it("503: retryable PSP_UNAVAILABLE for the next n calls, nothing registered", async () => {
    const { sandbox } = recorded();
    sandbox.faults.failNextRegistrations(2, "503");
    const input = registrationInput();
    for (let i = 0; i < 2; i++) {
      await expect(sandbox.createHostedPayment(input)).rejects.toMatchObject({
        code: "PSP_UNAVAILABLE",
        kind: "retryable",
        pspCode: "service_unavailable",
      });
    }
    expect(sandbox.payments()).toHaveLength(0);
    await expect(sandbox.createHostedPayment(input)).resolves.toMatchObject({ status: "requires_payment" });
    expect(sandbox.payments()).toHaveLength(1);
  });

  it("timeout: indeterminate PSP_TIMEOUT, yet registered; the same key finds it, a new key would not", async () => {
    const { sandbox } = recorded();
    sandbox.faults.failNextRegistrations(1, "timeout");
    const input = registrationInput();
    await expect(sandbox.createHostedPayment(input)).rejects.toMatchObject({
      code: "PSP_TIMEOUT",
      kind: "indeterminate",
    });
    const [lost] = sandbox.payments();
    expect(lost).toMatchObject({ paymentId: input.paymentId, status: "requires_payment" });
    expect((await sandbox.createHostedPayment(input)).pspReference).toBe(lost!.pspReference);
    await sandbox.createHostedPayment({ ...input, idempotencyKey: "a-fresh-key" });
    expect(sandbox.payments()).toHaveLength(2);
  });

  it("timeout applies to a replay too: the answer is lost again, nothing new is registered", async () => {
    const { sandbox } = recorded();
    const input = registrationInput();
    await sandbox.createHostedPayment(input);
    sandbox.faults.failNextRegistrations(1, "timeout");
    await expect(sandbox.createHostedPayment(input)).rejects.toMatchObject({ code: "PSP_TIMEOUT" });
    expect(sandbox.payments()).toHaveLength(1);
  });

  it("rejects nonsense fault arguments and clears faults on reset", async () => {
    const { sandbox } = recorded();
    expect(() => sandbox.faults.failNextRegistrations(-1, "503")).toThrow(RangeError);
    expect(() => sandbox.faults.delayNextWebhook(-5)).toThrow(RangeError);
    sandbox.faults.failNextRegistrations(3, "503");
    sandbox.faults.dropNextWebhook();
    sandbox.faults.reset();
    const { pspReference } = await sandbox.createHostedPayment(registrationInput());
    await sandbox.pay(pspReference);
    expect(sandbox.deliveries()).toHaveLength(1);
  });
});
