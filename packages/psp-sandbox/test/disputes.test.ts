import type { PspDisputeEvent } from "@settlekit/core";
import { describe, expect, it } from "vitest";
import { registrationInput, T0, testSandbox } from "./support/sandbox-harness.js";

describe("disputes (sandbox)", () => {
  async function paid(overrides: Parameters<typeof testSandbox>[0] = {}) {
    const created = testSandbox(overrides);
    const { pspReference } = await created.sandbox.createHostedPayment(registrationInput());
    await created.sandbox.pay(pspReference);
    return { ...created, pspReference };
  }
  /** The dispute events emitted so far, as parseWebhook maps them. */
  async function parsed(sandbox: Awaited<ReturnType<typeof paid>>["sandbox"]) {
    const out: PspDisputeEvent[] = [];
    for (const event of sandbox.events().filter((e) => e.type.startsWith("dispute."))) {
      const [mapped] = await sandbox.parseWebhook({
        rawBody: event.rawBody,
        headers: event.headers,
        now: T0,
      });
      out.push(mapped as PspDisputeEvent);
    }
    return out;
  }

  it("opens a dispute: amount and fee withdrawn at once, sent as signed snapshots", async () => {
    const { sandbox, pspReference } = await paid();
    const dispute = await sandbox.openDispute(pspReference, { reason: "product_not_received" });
    expect(dispute).toMatchObject({
      disputeReference: expect.stringMatching(/^sbx_dp_[0-9a-f]{24}$/),
      amount: 12_345n,
      status: "needs_response",
      withdrawn: { amount: 12_345n, fee: 1_500n },
    });
    expect(
      sandbox
        .events()
        .map((e) => e.type)
        .slice(-2),
    ).toEqual(["dispute.created", "dispute.funds_withdrawn"]);
    const [created, withdrawn] = await parsed(sandbox);
    const snapshot = {
      kind: "dispute",
      pspReference,
      disputeReference: dispute.disputeReference,
      status: "needs_response",
      amount: 12_345n,
      currency: "USD",
      reason: "product_not_received",
      evidenceDueBy: new Date(T0.getTime() + 7 * 86_400_000),
      fundsWithdrawn: { amount: 12_345n, fee: 1_500n },
    };
    expect(created).toMatchObject(snapshot);
    expect(withdrawn).toMatchObject(snapshot);
    expect(withdrawn?.eventId).not.toBe(created?.eventId);
  });

  it("wins (amount back, fee returned as asked) and loses (nothing back)", async () => {
    const { sandbox, pspReference } = await paid({ disputeFeePolicy: () => 2_000n });
    const a = await sandbox.openDispute(pspReference, { amount: 5_000n });
    await sandbox.submitDisputeEvidence(a.disputeReference);
    expect(await sandbox.winDispute(a.disputeReference, { feeReturned: 500n })).toMatchObject({
      status: "won",
      reinstated: { amount: 5_000n, feeReturned: 500n },
    });
    const events = await parsed(sandbox);
    expect(events.map((e) => e.status)).toEqual([
      "needs_response",
      "needs_response",
      "under_review",
      "won",
      "won",
    ]);
    expect(events.at(-1)).toMatchObject({
      fundsWithdrawn: { amount: 5_000n, fee: 2_000n },
      fundsReinstated: { amount: 5_000n, feeReturned: 500n },
    });
    await expect(sandbox.loseDispute(a.disputeReference)).rejects.toMatchObject({
      pspCode: "dispute_closed",
    });

    const b = await sandbox.openDispute(pspReference, { amount: 100n });
    await sandbox.loseDispute(b.disputeReference);
    const last = (await parsed(sandbox)).at(-1);
    expect(last).toMatchObject({ status: "lost", fundsWithdrawn: { amount: 100n, fee: 2_000n } });
    expect(last?.fundsReinstated).toBeUndefined();
  });

  it.each([
    ["an unpaid payment", false, {}, "charge_not_disputable"],
    ["more than was captured", true, { amount: 12_346n }, "parameter_invalid"],
    ["a zero amount", true, { amount: 0n }, "parameter_invalid"],
  ])("refuses a dispute of %s", async (_title, pay, options, pspCode) => {
    const { sandbox } = testSandbox();
    const { pspReference } = await sandbox.createHostedPayment(registrationInput());
    if (pay) await sandbox.pay(pspReference);
    await expect(sandbox.openDispute(pspReference, options)).rejects.toMatchObject({
      pspCode,
      kind: "fatal",
    });
    expect(sandbox.disputes()).toEqual([]);
  });

  it("disputes the next payments that succeed when the fault asks", async () => {
    const { sandbox } = testSandbox();
    sandbox.faults.disputeNextPayments(1, { reason: "duplicate" });
    const first = await sandbox.createHostedPayment(registrationInput({ idempotencyKey: "k1" }));
    const second = await sandbox.createHostedPayment(registrationInput({ idempotencyKey: "k2" }));
    await sandbox.pay(first.pspReference);
    await sandbox.pay(second.pspReference);
    expect(sandbox.disputes()).toEqual([
      expect.objectContaining({ pspReference: first.pspReference, reason: "duplicate", amount: 12_345n }),
    ]);
    expect(sandbox.events().map((e) => e.type)).toEqual([
      "payment.succeeded",
      "dispute.created",
      "dispute.funds_withdrawn",
      "payment.succeeded",
    ]);
  });
});
