import type {
  Notification,
  OutboxEvent,
  PaymentInput,
  PaymentProvider,
  PaymentSystem,
  PaymentSystemOptions,
} from "@settlekit/core";
import { createPaymentSystem, inProcessPublisher, manualClock, runWorkerPass } from "@settlekit/core";
import type { SandboxProvider } from "@settlekit/psp-sandbox";
import { sandboxProvider } from "@settlekit/psp-sandbox";
import type { KnexStore } from "@settlekit/store-knex";
import { knexStore } from "@settlekit/store-knex";
import { openTestDatabase } from "@settlekit/store-knex/testing";
import { assertOutboxMatchesSchemas } from "./event-schemas.js";
import type { JsonApi } from "./json-api.js";
import { jsonApi } from "./json-api.js";

export type Dialect = "sqlite" | "postgres";
export const DIALECTS: Dialect[] = ["sqlite", "postgres"];

/** What every world has: the store, the system, one manual clock and what the host received. */
export interface HostWorld {
  readonly store: KnexStore;
  /** The SDK, its results projected to the REST API's JSON (see `jsonApi`). */
  readonly system: JsonApi;
  /** The SDK as a host gets it: typed results. */
  readonly sdk: PaymentSystem;
  readonly clock: ReturnType<typeof manualClock>;
  readonly notifications: Notification[];
  readonly published: OutboxEvent[];
  /** Webhook deliveries the host answered, by HTTP status. */
  readonly webhookStatuses: number[];
  /** One background pass (relay, jobs, deferred webhooks, sweeper, recovery, cleanup). */
  work(): ReturnType<typeof runWorkerPass>;
  /** Lets the PSP's pending webhooks reach the host. */
  deliver(): Promise<void>;
  close(): Promise<void>;
}

export interface World extends HostWorld {
  readonly sandbox: SandboxProvider;
}

export const DELIVERY = new Date("2026-03-05T12:00:00.000Z");

/** What a PSP brings to a world: its provider, how its webhooks are delivered, how it stops. */
export interface PspSetup<P extends PaymentProvider> {
  readonly provider: P;
  deliver(): Promise<void>;
  close(): Promise<void>;
}

/** The host's side a PSP setup gets: the shared clock and the webhook endpoint. */
export interface Host {
  readonly clock: ReturnType<typeof manualClock>;
  /** Hands a webhook to `system.handleWebhook`, records and returns the HTTP status answered. */
  receive(pspId: string, rawBody: string, headers: Record<string, string>): Promise<number>;
}

/**
 * The product wired as a host would, around one PSP: knex store, a notifier and a publisher that
 * record, a manual clock shared with the PSP, and the PSP's webhooks handed to
 * `system.handleWebhook`.
 */
export async function makeHostWorld<P extends PaymentProvider>(
  dialect: Dialect,
  overrides: Partial<PaymentSystemOptions>,
  psp: (host: Host) => Promise<PspSetup<P>>,
): Promise<HostWorld & { readonly provider: P }> {
  // A database of its own: SQLite in memory, or a fresh Postgres schema (dropped by `close`).
  const db = await openTestDatabase(dialect, { schemaPrefix: "sk_it" });
  const store = knexStore(db.knex);
  await store.migrate();
  const clock = manualClock(new Date("2026-03-01T12:00:00.000Z"));
  const notifications: Notification[] = [];
  const published: OutboxEvent[] = [];
  const webhookStatuses: number[] = [];
  const publisher = inProcessPublisher();
  publisher.subscribe((event) => published.push(event));
  let system: PaymentSystem | undefined;
  let closed = false;
  const setup = await psp({
    clock,
    async receive(pspId, rawBody, headers) {
      let status = 200;
      try {
        await system!.handleWebhook(pspId, { rawBody, headers });
      } catch (error) {
        status = (error as { code?: string }).code === "WEBHOOK_SIGNATURE_INVALID" ? 400 : 500;
      }
      webhookStatuses.push(status);
      return status;
    },
  });
  system = createPaymentSystem({
    store,
    providers: [setup.provider],
    clock,
    notifier: { notify: async (n) => void notifications.push(n) },
    publisher,
    estimateDelivery: () => DELIVERY,
    backoff: { baseMs: 1_000, maxMs: 60_000, jitter: 0 },
    ...overrides,
  });
  return {
    store,
    system: jsonApi(system),
    sdk: system,
    provider: setup.provider,
    clock,
    notifications,
    published,
    webhookStatuses,
    work: () => runWorkerPass(system!, "worker-1"),
    deliver: () => setup.deliver(),
    async close() {
      if (closed) return;
      closed = true;
      try {
        // Every event the suite produced must match its type's JSON Schema (from core).
        for (const type of await assertOutboxMatchesSchemas(store)) seenEventTypes.add(type);
      } finally {
        await setup.close();
        await db.close();
      }
    },
  };
}

/** The outbox event types the worlds of this test file produced (collected as they close). */
export const seenEventTypes = new Set<string>();

/**
 * The whole product on the sandbox PSP, whose webhooks are POSTed (through an in-process
 * `fetch`) to the host.
 */
export async function makeWorld(
  dialect: Dialect,
  overrides: Partial<PaymentSystemOptions> = {},
  options: WorldOptions = {},
): Promise<World> {
  const world = await makeHostWorld(dialect, overrides, async (host) => {
    const sandbox = sandboxProvider({
      baseUrl: "http://shop.test/sandbox",
      webhookUrl: "http://shop.test/webhooks/sandbox",
      webhookSecret: "whsec_integration",
      clock: host.clock,
      bankTransferSettleMs: 30_000,
      webhookRetry: { attempts: 5, baseMs: 1_000 },
      fetch: (async (_url: string | URL | Request, init?: RequestInit) => {
        const headers = Object.fromEntries(new Headers(init?.headers).entries());
        const status = await host.receive("sandbox", String(init?.body ?? ""), headers);
        return new Response("{}", { status });
      }) as typeof fetch,
    });
    const seen = options.closesPages === false ? withoutPageClosing(sandbox) : sandbox;
    return {
      provider: options.wrapProvider ? (options.wrapProvider(seen) as SandboxProvider) : seen,
      deliver: () => sandbox.idle(),
      close: () => sandbox.close(),
    };
  });
  return { ...world, sandbox: world.provider };
}

/** How a world's PSP behaves beyond its defaults. */
export interface WorldOptions {
  /** `false`: the system sees a PSP without `cancelHostedPayment` (pages stay payable until they expire). */
  readonly closesPages?: boolean;
  /** The provider the system sees, around the sandbox the test drives (e.g. `payoutFaults`). */
  readonly wrapProvider?: (provider: PaymentProvider) => PaymentProvider;
}

/**
 * The provider as the system sees it, minus `cancelHostedPayment` (a PSP that cannot close a
 * hosted page); the test still drives the real one.
 */
export function withoutPageClosing<P extends PaymentProvider>(provider: P): P {
  return new Proxy(provider, {
    get(target, key, receiver) {
      if (key === "capabilities") return { ...target.capabilities, cancelHostedPayments: false };
      if (key === "cancelHostedPayment") return undefined;
      return Reflect.get(target, key, receiver);
    },
  });
}

/** Every ledger balance, as `"<account> <currency>" → balance`. */
export async function balancesOf(world: HostWorld): Promise<Record<string, bigint>> {
  return Object.fromEntries(
    (await world.store.ledger.listBalances()).map((b) => [`${b.account} ${b.currency}`, b.balance]),
  );
}

/** The types of a payment's outbox events, in order. */
export async function outboxTypesOf(world: HostWorld, paymentId: string): Promise<string[]> {
  return (await world.store.knex("settlekit_outbox").where({ aggregate_id: paymentId }).orderBy("seq")).map(
    (r) => r.type,
  );
}

export const cart = (overrides: Partial<PaymentInput> = {}): PaymentInput => ({
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
});

/** The PSP reference behind a hosted page URL. */
export const referenceOf = (body: { redirect_url?: unknown }): string =>
  String(body.redirect_url).split("/pay/")[1]!;

/**
 * A payment whose two pages were both paid on a PSP that cannot close pages: the first page
 * declined, the retried one paid, then the old one paid in a second tab — recorded as a capture no
 * payment order owns; its automatic refund job has not run yet.
 */
export async function unownedCaptureWorld(
  dialect: Dialect,
): Promise<{ world: World; id: string; first: string; second: string }> {
  const world = await makeWorld(dialect, {}, { closesPages: false });
  const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
  const id = String(created.body.id);
  const first = referenceOf(created.body);
  await world.sandbox.pay(first, { card: "4000 0000 0000 0002" });
  await world.deliver();
  const second = referenceOf(
    await world.system.retryPayment(id, { buyerId: "B1", idempotencyKey: "retry-1" }),
  );
  await world.sandbox.pay(second);
  await world.deliver();
  await world.sandbox.pay(first);
  await world.deliver();
  return { world, id, first, second };
}
