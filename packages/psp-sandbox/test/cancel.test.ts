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

const closing = (pspReference: string, idempotencyKey = "cnl_1") =>
  ({ pspReference, reason: "superseded", idempotencyKey }) as const;

// The port's behaviour is the conformance suite's (cancel-suite.ts); these are the sandbox's own.
describe("sandbox cancelHostedPayment", () => {
  it("faults: the next n closes answer a retryable 503 and close nothing; reset clears them", async () => {
    const { sandbox } = recorded();
    const { pspReference } = await sandbox.createHostedPayment(registrationInput());
    expect(() => sandbox.faults.failNextCancels(-1)).toThrow(RangeError);
    sandbox.faults.failNextCancels(2);
    for (let i = 0; i < 2; i++) {
      await expect(sandbox.cancelHostedPayment(closing(pspReference))).rejects.toMatchObject({
        code: "PSP_UNAVAILABLE",
        kind: "retryable",
        pspCode: "service_unavailable",
      });
    }
    expect(sandbox.payment(pspReference)!.status).toBe("requires_payment");
    expect(sandbox.events()).toEqual([]);
    sandbox.faults.failNextCancels(1);
    sandbox.faults.reset();
    expect((await sandbox.cancelHostedPayment(closing(pspReference))).status).toBe("canceled");
  });

  it("emits payment.canceled once, and the expiry timer then leaves the payment alone", async () => {
    const { sandbox, clock } = recorded();
    const { pspReference } = await sandbox.createHostedPayment(registrationInput());
    await sandbox.cancelHostedPayment(closing(pspReference));
    await sandbox.cancelHostedPayment(closing(pspReference, "cnl_2"));
    clock.advance(2 * 86_400_000);
    await sandbox.tick();
    expect(sandbox.events().map((e) => e.type)).toEqual(["payment.canceled"]);
    const [event] = sandbox.events();
    expect(JSON.parse(event!.rawBody).data.payment).toMatchObject({
      reference: pspReference,
      status: "canceled",
    });
    await expect(sandbox.expire(pspReference)).rejects.toMatchObject({ pspCode: "payment_not_expirable" });
  });

  it("a deadline that passed unseen closes the payment as expired; the close answers canceled", async () => {
    const { sandbox, clock } = recorded();
    const { pspReference } = await sandbox.createHostedPayment(registrationInput());
    clock.advance(2 * 86_400_000); // no tick: the expiry timer has not run
    expect(await sandbox.cancelHostedPayment(closing(pspReference))).toEqual({
      pspReference,
      status: "canceled",
    });
    expect(sandbox.payment(pspReference)!.status).toBe("expired");
    expect(sandbox.events().map((e) => e.type)).toEqual(["payment.expired"]);
  });

  it("refuses a missing idempotency key or an unknown reason, closing nothing", async () => {
    const { sandbox } = recorded();
    const { pspReference } = await sandbox.createHostedPayment(registrationInput());
    await expect(sandbox.cancelHostedPayment(closing(pspReference, ""))).rejects.toMatchObject({
      code: "PSP_REQUEST_REJECTED",
      kind: "fatal",
      param: "idempotencyKey",
    });
    const odd = { ...closing(pspReference), reason: "bored" } as unknown as Parameters<
      typeof sandbox.cancelHostedPayment
    >[0];
    await expect(sandbox.cancelHostedPayment(odd)).rejects.toMatchObject({
      code: "PSP_REQUEST_REJECTED",
      param: "reason",
    });
    expect(sandbox.payment(pspReference)!.status).toBe("requires_payment");
  });
});
