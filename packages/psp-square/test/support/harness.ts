import type { ManualClock } from "@settlekit/core";
import { manualClock } from "@settlekit/core";
import type { PaymentOutcome, ProviderHarness } from "@settlekit/core/testing";
import type { SquareClient } from "square";
import type { SquareProvider, SquareProviderOptions } from "../../src/index.js";
import { squareProvider } from "../../src/index.js";
import { FakeSquare } from "../../src/testing/index.js";

export const SIGNATURE_KEY = "fake-square-signature-key";
export const NOTIFICATION_URL = "https://shop.example/webhooks/square";
export const LOCATION_ID = "L_FAKE_US";
export const T0 = new Date("2026-03-01T12:00:00.000Z");

export interface SquareWorld {
  readonly fake: FakeSquare;
  readonly clock: ManualClock;
  readonly provider: SquareProvider;
  readonly client: SquareClient;
}

/** A fake Square on a manual clock at {@link T0} and the provider over a client pointed at it. */
export async function squareWorld(
  overrides: Partial<SquareProviderOptions> = {},
  config: { timeoutInSeconds?: number; pageSize?: number } = {},
): Promise<SquareWorld> {
  const clock = manualClock(T0);
  const fake = await FakeSquare.start({
    clock,
    signatureKey: SIGNATURE_KEY,
    notificationUrl: NOTIFICATION_URL,
    ...(config.pageSize ? { pageSize: config.pageSize } : {}),
  });
  const client = fake.client({ timeoutInSeconds: config.timeoutInSeconds ?? 10 });
  const provider = squareProvider({
    client,
    locationId: LOCATION_ID,
    currency: "USD",
    webhookSignatureKey: SIGNATURE_KEY,
    notificationUrl: NOTIFICATION_URL,
    clock,
    ...overrides,
  });
  return { fake, clock, provider, client };
}

/** The conformance harness: the provider against a fresh fake, drivers through its test control. */
export async function squareHarness(): Promise<ProviderHarness> {
  // 0.5 s: only the "timeout" fault waits for it. Page size 2: every list is read over several pages.
  const { fake, clock, provider } = await squareWorld({}, { timeoutInSeconds: 0.5, pageSize: 2 });
  const methodOf = new Map<string, "card" | "bank_transfer">();
  const registrations = provider.createHostedPayment.bind(provider);
  return {
    provider: {
      ...provider,
      async createHostedPayment(input) {
        const hosted = await registrations(input);
        methodOf.set(hosted.pspReference, input.method);
        return hosted;
      },
    },
    now: () => clock.now(),
    pay: async (ref, outcome: PaymentOutcome) =>
      void fake.pay(ref, outcome, { method: methodOf.get(ref) ?? "card" }),
    settle: async (ref) => void fake.settle(ref),
    expire: async (ref) => fake.cancelOrder(ref),
    webhooks: async () => fake.drainWebhooks(),
    // Square signs no timestamp: `timestamp` changes nothing (see the conformance option `signedTimestamps`).
    sign: (rawBody, options = {}) => ({
      "x-square-hmacsha256-signature": fake.sign(
        rawBody,
        options.secret ? { signatureKey: options.secret } : {},
      ),
    }),
    ignoredEventBody: () => fake.ignoredEventBody(),
    registrations: async () => fake.linkCount(),
    failNextRegistration: (mode) =>
      fake.failNext(
        mode === "unavailable" ? "503" : "timeout",
        (r) => r.method === "POST" && r.path === "/v2/online-checkout/payment-links",
      ),
    runBankPayouts: async () => void fake.runPayout({ paid: true }),
    cleanup: () => fake.close(),
  };
}
