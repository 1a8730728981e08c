import { runWorkerPass } from "../../src/background/worker.js";
import type { PaymentSystemOptions } from "../../src/deps.js";
import type { IdGenerator } from "../../src/ports/ids.js";
import type { Notification } from "../../src/ports/notifier.js";
import type { OutboxEvent } from "../../src/ports/outbox.js";
import type { PaymentProvider } from "../../src/ports/psp.js";
import type { ManualClock } from "../../src/runtime/clock.js";
import { manualClock } from "../../src/runtime/clock.js";
import type { PaymentInput } from "../../src/services/payments/payment-input.js";
import type { PaymentSystem } from "../../src/system.js";
import { createPaymentSystem } from "../../src/system.js";
import type { MemoryStore } from "../../src/testing/memory/memory-store.js";
import { memoryStore } from "../../src/testing/memory/memory-store.js";
import type { FakePsp } from "./fake-psp.js";
import { fakePsp } from "./fake-psp.js";

/** Core's services on the memory store and the fake PSP, on a manual clock: no database, no network. */
export interface World {
  readonly store: MemoryStore;
  readonly psp: FakePsp;
  readonly clock: ManualClock;
  readonly system: PaymentSystem;
  readonly notifications: Notification[];
  readonly published: OutboxEvent[];
  /** Delivers every webhook the PSP sent so far to the system, in order. */
  deliver(): Promise<void>;
  /** One worker pass: outbox relay, jobs, deferred webhooks, sweeper, recovery. */
  work(): Promise<void>;
  /** Every balance, as `"account currency" → balance`. */
  balances(): Promise<Record<string, bigint>>;
  /** The outbox event types of one payment, in append order. */
  outboxTypes(paymentId: string): Promise<string[]>;
}

export const T0 = new Date("2026-03-01T12:00:00.000Z");

/** Sequential ids: a test run is the same every time. */
export function counterIds(): IdGenerator {
  let n = 0;
  return { newId: () => `00000000-0000-7000-8000-${String(++n).padStart(12, "0")}` };
}

export function cart(overrides: Partial<PaymentInput> = {}): PaymentInput {
  return {
    buyerId: "B1",
    currency: "USD",
    method: "card",
    orders: [
      { sellerId: "S1", amount: 10_000n },
      { sellerId: "S2", amount: 2_345n },
    ],
    successUrl: "https://shop.test/orders/done",
    cancelUrl: "https://shop.test/cart",
    metadata: { cart: "cart-1" },
    ...overrides,
  };
}

/** The PSP reference behind a hosted page URL. */
export const referenceOf = (payment: { redirectUrl?: string | undefined }): string =>
  String(payment.redirectUrl).split("/pay/")[1]!;

/**
 * `wrapProvider` changes the fake PSP as the system sees it (e.g. gives it a `readSettlement`);
 * `world.psp` stays the fake itself, on the world's clock.
 */
export function makeWorld(
  options: Partial<PaymentSystemOptions> = {},
  extra: { readonly wrapProvider?: (provider: PaymentProvider) => PaymentProvider } = {},
): World {
  const clock = manualClock(T0);
  const store = memoryStore();
  const psp = fakePsp(clock);
  const notifications: Notification[] = [];
  const published: OutboxEvent[] = [];
  const system = createPaymentSystem({
    store,
    providers: [extra.wrapProvider ? extra.wrapProvider(psp.provider) : psp.provider],
    clock,
    ids: counterIds(),
    notifier: { notify: async (n) => void notifications.push(n) },
    publisher: { publish: async (events) => void published.push(...events) },
    logger: { warn: () => undefined, error: () => undefined },
    backoff: { baseMs: 1_000, maxMs: 60_000, jitter: 0 },
    ...options,
  });
  return {
    store,
    psp,
    clock,
    system,
    notifications,
    published,
    async deliver() {
      for (const webhook of await psp.webhooks()) {
        await system.handleWebhook(psp.provider.id, { ...webhook, now: clock.now() });
      }
    },
    async work() {
      await runWorkerPass(system, "w1");
    },
    async balances() {
      const all = await store.ledger.listBalances();
      return Object.fromEntries(all.map((b) => [`${b.account} ${b.currency}`, b.balance]));
    },
    async outboxTypes(paymentId) {
      const events = await store.transaction(
        (tx) => tx.outbox.listByAggregate({ aggregateType: "payment", aggregateId: paymentId }),
        { readOnly: true },
      );
      return events.map((e) => e.type);
    },
  };
}
