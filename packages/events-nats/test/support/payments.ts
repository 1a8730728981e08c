import {
  type BackoffPolicy,
  createPaymentSystem,
  type EventPublisher,
  type PaymentSystem,
} from "@settlekit/core";
import { memoryStore } from "@settlekit/core/testing";
import { sandboxProvider } from "@settlekit/psp-sandbox";

/** A payment system on the in-memory store and the sandbox PSP, relaying to `publisher`. */
export function paymentWorld(
  publisher: EventPublisher,
  backoff: BackoffPolicy = { baseMs: 10, maxMs: 50, jitter: 0 },
) {
  const store = memoryStore();
  const sandbox = sandboxProvider({
    baseUrl: "http://shop.test/sandbox",
    webhookSecret: "whsec_events_nats",
  });
  const system: PaymentSystem = createPaymentSystem({ store, providers: [sandbox], publisher, backoff });
  let n = 0;
  let handed = 0;
  return {
    store,
    system,
    /** Creates a payment of `amount` in `currency`, pays it at the sandbox and hands its webhooks over. */
    async pay(amount: bigint, currency = "USD") {
      n += 1;
      const created = await system.createPayment(
        {
          buyerId: `B${n}`,
          currency,
          method: "card",
          orders: [{ sellerId: "S1", amount }],
          successUrl: "https://shop.example/done",
          cancelUrl: "https://shop.example/cart",
        },
        { idempotencyKey: `events-nats-${process.pid}-${n}` },
      );
      const reference = String(created.payment.redirectUrl).split("/pay/")[1]!;
      await sandbox.pay(reference);
      const events = sandbox.events();
      for (const event of events.slice(handed)) {
        await system.handleWebhook(sandbox.id, { rawBody: event.rawBody, headers: event.headers });
      }
      handed = events.length;
      return system.getPayment(created.payment.id);
    },
    async pending() {
      return store.transaction((tx) => tx.outbox.listPending({ limit: 10_000 }));
    },
    async close() {
      await sandbox.close();
    },
  };
}
