import type { CreateHostedPaymentInput, ManualClock, PaymentProvider } from "@settlekit/core";
import { manualClock } from "@settlekit/core";
import type { CapturedWebhook, PaymentOutcome, ProviderHarness } from "@settlekit/core/testing";
import type { SandboxOptions, SandboxPayOptions, SandboxProvider, SandboxServer } from "../../src/index.js";
import {
  remoteSandboxProvider,
  sandboxProvider,
  signSandboxWebhook,
  startSandboxServer,
} from "../../src/index.js";
import type { WebhookReceiver } from "./http.js";
import { startReceiver } from "./http.js";

export const SECRET = "whsec_sandbox_test_secret";
export const T0 = new Date("2026-03-01T12:00:00.000Z");
export const seconds = (at: Date): number => Math.floor(at.getTime() / 1000);

/** A sandbox on a manual clock starting at {@link T0}, with nothing time-based running by itself. */
export function testSandbox(overrides: Partial<SandboxOptions> = {}): {
  sandbox: SandboxProvider;
  clock: ManualClock;
} {
  const clock = manualClock(T0);
  const sandbox = sandboxProvider({
    baseUrl: "http://sandbox.test/sandbox",
    webhookSecret: SECRET,
    clock,
    ...overrides,
  });
  return { sandbox, clock };
}

/** The test card (or the transfer) producing each outcome. */
export function payOptionsFor(
  sandbox: SandboxProvider,
  ref: string,
  outcome: PaymentOutcome,
): SandboxPayOptions {
  switch (outcome) {
    case "succeeded":
      return { card: "4242 4242 4242 4242" };
    case "declined":
      return { card: "4000 0000 0000 0002" };
    case "insufficient_funds":
      return { card: "4000 0000 0000 9995" };
    case "processing":
      return sandbox.payment(ref)?.method === "bank_transfer"
        ? { method: "bank_transfer" }
        : { card: "4000 0000 0000 3220" };
  }
}

/**
 * The conformance harness. `recorded`: no webhook URL, webhooks are read from the sandbox's
 * delivery log. `http`: webhooks are POSTed to a real node:http receiver and read from there.
 */
export async function sandboxHarness(
  mode: "recorded" | "http",
  { remote = false }: { remote?: boolean } = {},
): Promise<ProviderHarness> {
  const receiver: WebhookReceiver | undefined = mode === "http" ? await startReceiver() : undefined;
  const webhook = receiver ? { webhookUrl: receiver.url } : {};
  let sandbox: SandboxProvider;
  let clock: ManualClock;
  let provider: PaymentProvider;
  let server: SandboxServer | undefined;
  if (remote) {
    // The sandbox in a server of its own, the provider under test its HTTP client.
    clock = manualClock(T0);
    server = await startSandboxServer({ webhookSecret: SECRET, clock, ...webhook });
    sandbox = server.sandbox;
    provider = remoteSandboxProvider({ url: server.url, webhookSecret: SECRET });
  } else {
    ({ sandbox, clock } = testSandbox(webhook));
    provider = sandbox;
  }
  let seen = 0;
  return {
    provider,
    now: () => clock.now(),
    async pay(ref, outcome) {
      await sandbox.pay(ref, payOptionsFor(sandbox, ref, outcome));
    },
    settle: async (ref) => void (await sandbox.settle(ref)),
    expire: async (ref) => void (await sandbox.expire(ref)),
    async webhooks(): Promise<CapturedWebhook[]> {
      await sandbox.idle();
      const all: CapturedWebhook[] = receiver ? receiver.requests : sandbox.deliveries();
      const fresh = all.slice(seen);
      seen = all.length;
      return fresh.map(({ rawBody, headers }) => ({ rawBody, headers }));
    },
    sign: (rawBody, options = {}) => ({
      "settlekit-sandbox-signature": signSandboxWebhook(
        options.secret ?? SECRET,
        rawBody,
        seconds(options.timestamp ?? clock.now()),
      ),
    }),
    ignoredEventBody: () =>
      JSON.stringify({
        id: "evt_ignored_1",
        type: "account.updated",
        created: seconds(clock.now()),
        data: {},
      }),
    registrations: async () => sandbox.payments().length,
    disputes: {
      open: async (ref, amount) =>
        (await sandbox.openDispute(ref, amount === undefined ? {} : { amount })).disputeReference,
      win: async (ref) => void (await sandbox.winDispute(ref)),
      lose: async (ref) => void (await sandbox.loseDispute(ref)),
    },
    payoutsMade: async () =>
      sandbox.payouts().map(({ payoutReference, sellerId, amount, currency }) => ({
        payoutReference,
        sellerId,
        amount,
        currency,
      })),
    failNextPayout: (mode) =>
      sandbox.faults.failNextPayouts(1, mode === "unavailable" ? "503" : mode, {
        failureReason: "account_closed",
      }),
    failNextPayoutLookup: () => sandbox.faults.failNextPayoutLookups(1),
    holdNextRefund: () => sandbox.faults.holdNextRefunds(1),
    settleRefund: async (_reference, outcome) => sandbox.faults.settleHeldRefunds(outcome),
    failPaidPayout: async (ref) =>
      sandbox.faults.failPayoutAfterPaid(ref, { failureReason: "account_closed" }),
    async reversePayout(ref, amount) {
      // Plays the PSP's side of a reversal: the sandbox takes it back as `reversePayout` does.
      const payout = sandbox.payouts().find((p) => p.payoutReference === ref);
      if (!payout) throw new Error(`no sandbox payout ${ref}`);
      await sandbox.reversePayout({
        payoutReference: ref,
        payoutId: payout.payoutId,
        amount: amount ?? payout.amount - payout.amountReversed,
        currency: payout.currency,
        idempotencyKey: `harness_${globalThis.crypto.randomUUID()}`,
      });
    },
    failNextRegistration: (fault) =>
      sandbox.faults.failNextRegistrations(1, fault === "unavailable" ? "503" : "timeout"),
    failNextCancel: () => sandbox.faults.failNextCancels(1),
    async cleanup() {
      await (server ?? sandbox).close();
      await receiver?.close();
    },
  };
}

let inputs = 0;

/** A USD 123.45 card registration (two orders) with a fresh payment id and idempotency key. */
export function registrationInput(
  overrides: Partial<CreateHostedPaymentInput> = {},
): CreateHostedPaymentInput {
  inputs++;
  return {
    paymentId: `pay_${inputs}`,
    amount: 12_345n,
    currency: "USD",
    method: "card",
    orders: [
      { paymentOrderId: `po_${inputs}_1`, sellerId: "S1", amount: 10_000n },
      { paymentOrderId: `po_${inputs}_2`, sellerId: "S2", amount: 2_345n },
    ],
    successUrl: "https://shop.example/success",
    cancelUrl: "https://shop.example/cart",
    createdAt: T0,
    buyerId: "B1",
    metadata: { cart: "c1" },
    idempotencyKey: `reg_${inputs}`,
    ...overrides,
  };
}
