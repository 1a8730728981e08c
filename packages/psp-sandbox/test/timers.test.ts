import { describe, expect, it } from "vitest";
import { registrationInput, T0, testSandbox } from "./support/sandbox-harness.js";

const at = (ms: number) => new Date(T0.getTime() + ms);
const types = (sandbox: ReturnType<typeof testSandbox>["sandbox"]) => sandbox.events().map((e) => e.type);

describe("bank transfers and asynchronous cards", () => {
  it("settles a bank transfer when the manual clock reaches bankTransferSettleMs and tick() runs", async () => {
    const { sandbox, clock } = testSandbox();
    const { pspReference } = await sandbox.createHostedPayment(
      registrationInput({ method: "bank_transfer" }),
    );
    expect(await sandbox.pay(pspReference, { method: "bank_transfer" })).toMatchObject({
      status: "processing",
      instrument: "bank_transfer",
    });
    clock.advance(29_999);
    await sandbox.tick();
    expect((await sandbox.retrievePayment({ pspReference })).status).toBe("processing");
    clock.advance(1);
    expect((await sandbox.retrievePayment({ pspReference })).status).toBe("processing"); // time alone does nothing
    await sandbox.tick();
    expect(await sandbox.retrievePayment({ pspReference })).toMatchObject({
      status: "succeeded",
      updatedAt: at(30_000),
    });
    expect(sandbox.payment(pspReference)!.succeededAt).toEqual(at(30_000));
    expect(types(sandbox)).toEqual(["payment.processing", "payment.succeeded"]);
  });

  it("settles on demand, and the timer then does nothing", async () => {
    const { sandbox, clock } = testSandbox({ bankTransferSettleMs: 5_000 });
    const { pspReference } = await sandbox.createHostedPayment(
      registrationInput({ method: "bank_transfer" }),
    );
    await sandbox.pay(pspReference, { method: "bank_transfer" });
    expect((await sandbox.settle(pspReference)).status).toBe("succeeded");
    clock.advance(5_000);
    await sandbox.tick();
    expect(types(sandbox)).toEqual(["payment.processing", "payment.succeeded"]);
    await expect(sandbox.settle(pspReference)).rejects.toMatchObject({
      code: "PSP_REQUEST_REJECTED",
      kind: "fatal",
      pspCode: "payment_not_processing",
    });
  });

  it("confirms the asynchronous test card 4000 0000 0000 3220 after the same delay", async () => {
    const { sandbox, clock } = testSandbox({ bankTransferSettleMs: 1_000 });
    const { pspReference } = await sandbox.createHostedPayment(registrationInput());
    expect((await sandbox.pay(pspReference, { card: "4000000000003220" })).status).toBe("processing");
    clock.advance(1_000);
    await sandbox.tick();
    expect(await sandbox.retrievePayment({ pspReference })).toMatchObject({
      status: "succeeded",
      instrument: "credit_card",
    });
  });

  it("lets expire() close a transfer that never arrived; the settlement timer then does nothing", async () => {
    const { sandbox, clock } = testSandbox();
    const { pspReference } = await sandbox.createHostedPayment(
      registrationInput({ method: "bank_transfer" }),
    );
    await sandbox.pay(pspReference, { method: "bank_transfer" });
    expect((await sandbox.expire(pspReference)).status).toBe("expired");
    clock.advance(60_000);
    await sandbox.tick();
    expect(types(sandbox)).toEqual(["payment.processing", "payment.expired"]);
    await expect(sandbox.expire(pspReference)).rejects.toMatchObject({ pspCode: "payment_not_expirable" });
  });

  it("schedules nothing after close()", async () => {
    const { sandbox, clock } = testSandbox();
    const { pspReference } = await sandbox.createHostedPayment(
      registrationInput({ method: "bank_transfer" }),
    );
    await sandbox.pay(pspReference, { method: "bank_transfer" });
    await sandbox.close();
    clock.advance(60_000);
    await sandbox.tick();
    expect((await sandbox.retrievePayment({ pspReference })).status).toBe("processing");
  });
});

describe("expiry", () => {
  it("expires an unpaid payment 24 h after registration by default", async () => {
    const { sandbox, clock } = testSandbox();
    const hosted = await sandbox.createHostedPayment(registrationInput());
    expect(hosted.expiresAt).toEqual(at(24 * 3_600_000));
    clock.advance(24 * 3_600_000 - 1);
    await sandbox.tick();
    expect(types(sandbox)).toEqual([]);
    clock.advance(1);
    await sandbox.tick();
    expect(types(sandbox)).toEqual(["payment.expired"]);
    await expect(sandbox.pay(hosted.pspReference)).rejects.toMatchObject({ pspCode: "payment_expired" });
  });

  it("holds the deadline even before the timer runs, and expires once", async () => {
    const { sandbox, clock } = testSandbox();
    const { pspReference } = await sandbox.createHostedPayment(
      registrationInput({ expiresAt: at(3_600_000) }),
    );
    await sandbox.pay(pspReference, { card: "4000000000000002" });
    clock.advance(3_600_000);
    await expect(sandbox.pay(pspReference)).rejects.toMatchObject({
      code: "PSP_REQUEST_REJECTED",
      pspCode: "payment_expired",
    });
    await sandbox.tick();
    expect(types(sandbox)).toEqual(["payment.failed", "payment.expired"]);
  });

  it("does not expire a payment the buyer already submitted a transfer for", async () => {
    const { sandbox, clock } = testSandbox();
    const { pspReference } = await sandbox.createHostedPayment(
      registrationInput({ method: "bank_transfer", expiresAt: at(10_000) }),
    );
    await sandbox.pay(pspReference, { method: "bank_transfer" });
    clock.advance(30_000);
    await sandbox.tick();
    expect(types(sandbox)).toEqual(["payment.processing", "payment.succeeded"]);
  });
});
