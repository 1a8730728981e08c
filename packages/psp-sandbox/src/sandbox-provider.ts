import type { ProviderCapabilities } from "@settlekit/core";
import { PAYMENT_METHODS } from "@settlekit/core";
import { cancelPayment } from "./cancel.js";
import { createContext } from "./context.js";
import { disputeSnapshots, loseDispute, openDispute, submitDisputeEvidence, winDispute } from "./disputes.js";
import { rejected } from "./errors.js";
import { faultControls } from "./faults.js";
import { createHandler } from "./http/handler.js";
import type { SandboxOptions } from "./options.js";
import { resolveOptions } from "./options.js";
import { parseSandboxWebhook } from "./parse-webhook.js";
import { findPayment, payOptionsToForm, submitPaymentForm } from "./payment-attempt.js";
import {
  failPayoutAfterPaid,
  payoutSeller,
  retrieveSellerPayout,
  retrieveSellerPayoutReversal,
  reverseSellerPayout,
} from "./payouts.js";
import { snapshot, toRetrievedPayment } from "./records.js";
import {
  failRefundAfterSuccess,
  refundFromDashboard,
  refundPayment,
  retrieveRefund,
  settleHeldRefunds,
} from "./refunds.js";
import { registerPayment } from "./registration.js";
import { settlementCsv, settlementRecords } from "./settlement-csv.js";
import { expire, settleNow } from "./transitions.js";
import type { SandboxProvider } from "./types.js";

/** What the sandbox supports: both methods, every ISO 4217 currency with a minor unit. */
export const SANDBOX_CAPABILITIES: ProviderCapabilities = Object.freeze({
  // A frozen copy: handing out core's own array would let a caller edit PAYMENT_METHODS.
  methods: Object.freeze([...PAYMENT_METHODS]),
  currencies: "any",
  refunds: true,
  partialRefunds: true,
  payouts: true,
  payoutReversals: true,
  settlementReports: true,
  cancelHostedPayments: true,
  disputes: true,
});

/**
 * Creates a sandbox PSP: payments registered here are paid on its own hosted page (or with
 * `pay()`), and it reports back through signed webhooks, like Stripe in test mode but in-process
 * and with no account. Everything is kept in memory by this object.
 *
 * ```ts
 * const sandbox = sandboxProvider({
 *   baseUrl: "http://localhost:3000/sandbox",
 *   webhookUrl: "http://localhost:3000/webhooks/sandbox",
 *   webhookSecret: process.env.SANDBOX_WEBHOOK_SECRET!,
 * });
 * app.use("/sandbox", sandbox.handler);
 * ```
 *
 * Methods are `async` for the port's sake; the work itself is synchronous, so two calls never
 * interleave (the event loop serialises them), which is what makes idempotency keys exact here.
 */
export function sandboxProvider(options: SandboxOptions): SandboxProvider {
  const ctx = createContext(resolveOptions(options));
  const { state } = ctx;
  const retrieve = (pspReference: string) => toRetrievedPayment(findPayment(ctx, pspReference));
  return {
    id: "sandbox",
    capabilities: SANDBOX_CAPABILITIES,
    handler: createHandler(ctx),
    faults: faultControls(
      ctx.faults,
      (order) => ctx.dispatcher.release(order),
      {
        settleHeld: (outcome) => settleHeldRefunds(ctx, outcome),
        failAfterSuccess: (refundReference) => failRefundAfterSuccess(ctx, refundReference),
      },
      {
        failAfterPaid: (payoutReference, failureReason) =>
          failPayoutAfterPaid(ctx, payoutReference, failureReason),
      },
    ),

    createHostedPayment: async (input) => registerPayment(ctx, input),
    retrievePayment: async ({ pspReference }) => retrieve(pspReference),
    parseWebhook: async (input) =>
      parseSandboxWebhook(input, ctx.options.webhookSecret, ctx.options.webhookToleranceSeconds, ctx.now),
    refund: async (input) => refundPayment(ctx, input),
    retrieveRefund: async (input) => retrieveRefund(ctx, input),
    cancelHostedPayment: async (input) => cancelPayment(ctx, input),
    payout: async (input) => payoutSeller(ctx, input),
    retrievePayout: async (input) => retrieveSellerPayout(ctx, input),
    reversePayout: async (input) => reverseSellerPayout(ctx, input),
    retrievePayoutReversal: async (input) => retrieveSellerPayoutReversal(ctx, input),
    readSettlement: (query) => settlementRecords(state, query),

    async pay(pspReference, payOptions = {}) {
      submitPaymentForm(ctx, pspReference, payOptionsToForm(payOptions, ctx.now()));
      return retrieve(pspReference);
    },
    async settle(pspReference) {
      settleNow(ctx, findPayment(ctx, pspReference));
      return retrieve(pspReference);
    },
    async expire(pspReference) {
      const payment = findPayment(ctx, pspReference);
      if (!expire(ctx, payment, true)) {
        throw rejected(
          `Payment ${pspReference} is ${payment.status} and cannot expire.`,
          "payment_not_expirable",
        );
      }
      return retrieve(pspReference);
    },
    async refundFromDashboard(pspReference, amount, refundOptions) {
      return Object.freeze({ ...refundFromDashboard(ctx, pspReference, amount, refundOptions) });
    },

    openDispute: async (pspReference, disputeOptions) => openDispute(ctx, pspReference, disputeOptions),
    submitDisputeEvidence: async (reference) => submitDisputeEvidence(ctx, reference),
    winDispute: async (reference, winOptions) => winDispute(ctx, reference, winOptions),
    loseDispute: async (reference) => loseDispute(ctx, reference),
    disputes: () => disputeSnapshots(ctx),

    async tick() {
      ctx.scheduler.runDue();
      await ctx.dispatcher.idle();
    },
    idle: () => ctx.dispatcher.idle(),
    events: () => [...ctx.events],
    deliveries: () => ctx.dispatcher.deliveries(),
    payment(pspReference) {
      const payment = state.payments.get(pspReference);
      return payment && snapshot(payment);
    },
    payments: () => [...state.payments.values()].map(snapshot),
    refunds: () => [...state.refunds.values()].map((refund) => Object.freeze({ ...refund })),
    payouts: () => [...state.payouts.values()].map((payout) => Object.freeze({ ...payout })),
    payoutReversals: () =>
      [...state.payoutReversals.values()].map((reversal) => Object.freeze({ ...reversal })),
    settlementCsv: (date) => settlementCsv(state, date),

    async close() {
      ctx.scheduler.close();
      await ctx.dispatcher.idle();
    },
  };
}
