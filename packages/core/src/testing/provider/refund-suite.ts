import type { TestContext } from "vitest";
import { describe, expect, it } from "vitest";
import type { RefundInput } from "../../ports/psp.js";
import { expectPspError, receivedEvents, registered, unique } from "./fixtures.js";
import type { ProviderHarness } from "./harness.js";

/** A paid USD 123.45 payment, its webhooks already drained. */
async function paid(harness: ProviderHarness, amount = 12_345n): Promise<string> {
  const { pspReference } = await registered(harness, {
    amount,
    orders: [{ paymentOrderId: unique("po"), sellerId: "S1", amount }],
  });
  await harness.pay(pspReference, "succeeded");
  await harness.webhooks();
  return pspReference;
}

const refundOf = (
  pspReference: string,
  amount: bigint,
  overrides: Partial<RefundInput> = {},
): RefundInput => ({
  pspReference,
  refundId: unique("rf"),
  amount,
  currency: "USD",
  reason: "requested_by_customer",
  idempotencyKey: unique("rfk"),
  ...overrides,
});

/** Refunds: partial then full, over-refund, idempotency, refusals, amounts exact. */
export function refundSuite(current: () => ProviderHarness, largeAmount: bigint): void {
  describe("refunds", () => {
    const needs = (context: TestContext, harness: ProviderHarness, partial: boolean): boolean => {
      const caps = harness.provider.capabilities;
      const supported = caps.refunds && (!partial || caps.partialRefunds);
      if (!supported) context.skip();
      return supported;
    };

    it("refunds part, then the rest, then refuses more with REFUND_EXCEEDS_CAPTURED", async (context) => {
      const harness = current();
      if (!needs(context, harness, true)) return;
      const ref = await paid(harness);
      const first = await harness.provider.refund(refundOf(ref, 2_345n));
      expect(first.status).not.toBe("failed");
      expect((await harness.provider.retrievePayment({ pspReference: ref })).amountRefunded).toBe(2_345n);
      const rest = await harness.provider.refund(refundOf(ref, 10_000n));
      expect(rest.refundReference).not.toBe(first.refundReference);
      expect((await harness.provider.retrievePayment({ pspReference: ref })).amountRefunded).toBe(12_345n);
      const more = refundOf(ref, 1n);
      await expectPspError(harness.provider.refund(more), "REFUND_EXCEEDS_CAPTURED", "fatal", { sent: more });
      expect((await harness.provider.retrievePayment({ pspReference: ref })).amountRefunded).toBe(12_345n);
    });

    it("refuses a first refund larger than the payment and moves nothing", async (context) => {
      const harness = current();
      if (!needs(context, harness, false)) return;
      const ref = await paid(harness);
      const tooMuch = refundOf(ref, 12_346n);
      await expectPspError(harness.provider.refund(tooMuch), "REFUND_EXCEEDS_CAPTURED", "fatal", {
        sent: tooMuch,
      });
      expect((await harness.provider.retrievePayment({ pspReference: ref })).amountRefunded).toBe(0n);
    });

    it("is idempotent by key: the same request twice refunds once, with the same result", async (context) => {
      const harness = current();
      if (!needs(context, harness, true)) return;
      const ref = await paid(harness);
      const input = refundOf(ref, 1_000n);
      const first = await harness.provider.refund(input);
      const again = await harness.provider.refund({ ...input });
      expect(again).toEqual(first);
      expect((await harness.provider.retrievePayment({ pspReference: ref })).amountRefunded).toBe(1_000n);
      const changed = { ...input, amount: 2_000n };
      await expectPspError(harness.provider.refund(changed), "PSP_REQUEST_REJECTED", "fatal", {
        sent: changed,
      });
    });

    it("reports the refund by webhook with its reference and exact amount", async (context) => {
      const harness = current();
      if (!needs(context, harness, true)) return;
      const ref = await paid(harness);
      const { refundReference } = await harness.provider.refund(refundOf(ref, 345n));
      const refunds = (await receivedEvents(harness)).filter((e) => e.kind === "refund");
      expect(refunds.at(-1)).toMatchObject({
        kind: "refund",
        pspReference: ref,
        refundReference,
        status: "succeeded",
        amount: 345n,
        currency: "USD",
      });
    });

    it("retrieveRefund reads a refund by its reference and by settlekit's refund id; null for one never made", async (context) => {
      const harness = current();
      if (!needs(context, harness, true)) return;
      const ref = await paid(harness);
      const input = refundOf(ref, 1_234n);
      const made = await harness.provider.refund(input);
      // The status its latest webhook reported (a PSP may answer `pending` and complete at once).
      const reported = (await receivedEvents(harness)).filter(
        (e) => e.kind === "refund" && e.refundReference === made.refundReference,
      );
      const last = reported.at(-1);
      const expected = {
        refundReference: made.refundReference,
        refundId: input.refundId,
        status: last?.kind === "refund" ? last.status : made.status,
        amount: 1_234n,
        currency: "USD",
      };
      const byReference = await harness.provider.retrieveRefund({
        pspReference: ref,
        refundReference: made.refundReference,
        currency: "USD",
      });
      expect(byReference).toMatchObject(expected);
      expect(typeof byReference?.amount).toBe("bigint");
      // A `refund` whose answer was lost: only settlekit's id is known.
      expect(
        await harness.provider.retrieveRefund({
          pspReference: ref,
          refundId: input.refundId,
          currency: "USD",
        }),
      ).toMatchObject(expected);
      // A second refund of the same payment is told apart by its own id.
      const other = refundOf(ref, 1n);
      const second = await harness.provider.refund(other);
      expect(
        await harness.provider.retrieveRefund({
          pspReference: ref,
          refundId: other.refundId,
          currency: "USD",
        }),
      ).toMatchObject({ refundReference: second.refundReference, amount: 1n });
      // A refund call that never got through: the PSP holds nothing under that id.
      expect(
        await harness.provider.retrieveRefund({ pspReference: ref, refundId: unique("rf"), currency: "USD" }),
      ).toBeNull();
      // Reads only: nothing more was refunded.
      expect((await harness.provider.retrievePayment({ pspReference: ref })).amountRefunded).toBe(1_235n);
    });

    it("retrieveRefund follows a pending refund to its end at the PSP, also when it fails", async (context) => {
      const harness = current();
      if (!needs(context, harness, true)) return;
      if (!harness.holdNextRefund || !harness.settleRefund) return context.skip();
      const ref = await paid(harness);
      for (const outcome of ["succeeded", "failed"] as const) {
        harness.holdNextRefund();
        const input = refundOf(ref, 100n);
        const made = await harness.provider.refund(input);
        expect(made.status).toBe("pending");
        const read = () =>
          harness.provider.retrieveRefund({
            pspReference: ref,
            refundReference: made.refundReference,
            currency: "USD",
          });
        expect(await read()).toMatchObject({ status: "pending", amount: 100n });
        await harness.settleRefund(made.refundReference, outcome);
        expect(await read()).toMatchObject({ status: outcome, amount: 100n, refundId: input.refundId });
        expect(
          await harness.provider.retrieveRefund({
            pspReference: ref,
            refundId: input.refundId,
            currency: "USD",
          }),
        ).toMatchObject({ refundReference: made.refundReference, status: outcome });
      }
    });

    it("retrieveRefund: an unknown payment is fatal NOT_FOUND; no reference nor id is PSP_REQUEST_REJECTED", async (context) => {
      const harness = current();
      if (!needs(context, harness, false)) return;
      await expectPspError(
        harness.provider.retrieveRefund({
          pspReference: "no_such_payment_123",
          refundId: "rf_x",
          currency: "USD",
        }),
        "NOT_FOUND",
        "fatal",
      );
      const ref = await paid(harness);
      await expectPspError(
        harness.provider.retrieveRefund({ pspReference: ref, currency: "USD" }),
        "PSP_REQUEST_REJECTED",
        "fatal",
      );
    });

    it.for([
      ["unpaid", "requires_payment"],
      ["declined", "failed"],
    ] as const)(
      "refuses to refund a %s payment as fatal PSP_REQUEST_REJECTED",
      async ([, state], context) => {
        const harness = current();
        if (!needs(context, harness, false)) return;
        const { pspReference } = await registered(harness);
        if (state === "failed") await harness.pay(pspReference, "declined");
        const sent = refundOf(pspReference, 100n);
        await expectPspError(harness.provider.refund(sent), "PSP_REQUEST_REJECTED", "fatal", { sent: sent });
      },
    );

    it("refuses a refund of an unknown payment as fatal NOT_FOUND", async (context) => {
      const harness = current();
      if (!needs(context, harness, false)) return;
      const sent = refundOf("no_such_payment_123", 100n);
      await expectPspError(harness.provider.refund(sent), "NOT_FOUND", "fatal", { sent: sent });
    });

    it("refuses a refund in another currency", async (context) => {
      const harness = current();
      if (!needs(context, harness, false)) return;
      const ref = await paid(harness);
      const sent = refundOf(ref, 100n, { currency: "EUR" });
      await expectPspError(harness.provider.refund(sent), "PSP_REQUEST_REJECTED", "fatal", { sent: sent });
    });

    it("keeps large amounts exact: refunds all but one minor unit", async (context) => {
      const harness = current();
      if (!needs(context, harness, true)) return;
      const ref = await paid(harness, largeAmount);
      await harness.provider.refund(refundOf(ref, largeAmount - 1n));
      const after = await harness.provider.retrievePayment({ pspReference: ref });
      expect(after.amount).toBe(largeAmount);
      expect(after.amountRefunded).toBe(largeAmount - 1n);
      const more = refundOf(ref, 2n);
      await expectPspError(harness.provider.refund(more), "REFUND_EXCEEDS_CAPTURED", "fatal", { sent: more });
      await harness.provider.refund(refundOf(ref, 1n));
      expect((await harness.provider.retrievePayment({ pspReference: ref })).amountRefunded).toBe(
        largeAmount,
      );
    });
  });
}
