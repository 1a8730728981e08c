import { randomBytes } from "node:crypto";
import type { Clock } from "@settlekit/core";
import type Stripe from "stripe";
import { invalidRequest, notFound } from "./errors.js";

/** The fake's objects are Stripe's own types, as its JSON (expandable fields hold ids). */
export type Session = Stripe.Checkout.Session & {
  /** What the session will give its PaymentIntent (Stripe keeps it server-side). */
  _intentData: { metadata: Record<string, string>; transfer_group: string | null };
};

/** A Stripe-looking id: `cs_test_…`, `pi_…`, `txn_…`. */
export const newId = (prefix: string): string => `${prefix}_${randomBytes(12).toString("hex")}`;

const unix = (clock: Clock): number => Math.floor(clock.now().getTime() / 1000);

/** The fake's fee: 2.9 % + 30 smallest units, half up, in bigint (never a float). */
const fee = (amount: number): number => Number((BigInt(amount) * 29n * 2n + 1_000n) / 2_000n + 30n);

/**
 * Everything the fake Stripe account holds, keyed by id; `order` keeps creation order for lists
 * (Stripe lists newest first). One per fake server.
 */
export class FakeStripeState {
  readonly objects = new Map<string, { object: string; id: string; created: number }>();
  readonly order: string[] = [];
  /** Connected accounts that can receive transfers. */
  readonly accounts = new Set<string>();
  /** Connected accounts whose transfers Stripe refuses (`transfers_not_allowed`): closed or restricted. */
  readonly restrictedAccounts = new Set<string>();
  /** Events emitted, oldest first. */
  readonly events: Stripe.Event[] = [];
  /** How many upcoming refunds stay `pending` (see `FakeStripe.holdNextRefunds`). */
  heldRefunds = 0;

  constructor(
    readonly clock: Clock,
    readonly apiVersion: string,
    readonly pageUrl: (id: string) => string,
  ) {}

  /** Takes the "stay pending" hold for the refund being created, if any. */
  takeRefundHold(): boolean {
    if (this.heldRefunds === 0) return false;
    this.heldRefunds--;
    return true;
  }

  now(): number {
    return unix(this.clock);
  }

  put<T extends { object: string; id: string; created: number }>(value: T): T {
    if (!this.objects.has(value.id)) this.order.push(value.id);
    this.objects.set(value.id, value);
    return value;
  }

  get<T>(kind: string, id: string, param = "id"): T {
    const value = this.objects.get(id);
    if (!value || value.object !== kind) throw notFound(kind.replace(".", " "), id, param);
    return value as unknown as T;
  }

  /** Objects of one kind, newest first, filtered. */
  all<T>(kind: string, keep: (value: T) => boolean = () => true): T[] {
    const out: T[] = [];
    for (let i = this.order.length - 1; i >= 0; i--) {
      const value = this.objects.get(this.order[i]!)!;
      if (value.object === kind && keep(value as unknown as T)) out.push(value as unknown as T);
    }
    return out;
  }

  /** Records an event with a snapshot of `object` as of now (what a webhook carries). */
  emit(type: string, object: object, account?: string): Stripe.Event {
    const snapshot = JSON.parse(JSON.stringify(object, (k, v) => (k.startsWith("_") ? undefined : v)));
    const event = {
      id: newId("evt"),
      object: "event",
      api_version: this.apiVersion,
      created: this.now(),
      data: { object: snapshot },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
      ...(account ? { account } : {}),
    } as unknown as Stripe.Event;
    this.events.push(event);
    return event;
  }

  /** A balance movement; its `source` is the object's id. */
  balance(source: string, type: string, category: string, amount: number, currency: string, withFee = false) {
    const charged = withFee ? fee(amount) : 0;
    return this.put({
      id: newId("txn"),
      object: "balance_transaction",
      amount,
      available_on: this.now() + 2 * 86_400,
      created: this.now(),
      currency,
      description: null,
      exchange_rate: null,
      fee: charged,
      fee_details: charged
        ? [{ amount: charged, currency, description: "Stripe processing fees", type: "stripe_fee" }]
        : [],
      net: amount - charged,
      reporting_category: category,
      source,
      status: "pending",
      type,
      _payout: null as string | null,
    } as unknown as Stripe.BalanceTransaction & { _payout: string | null });
  }

  /** The platform's balance in one currency (what transfers without `source_transaction` draw on). */
  balanceOf(currency: string): number {
    return this.all<Stripe.BalanceTransaction>("balance_transaction", (t) => t.currency === currency).reduce(
      (sum, t) => sum + t.net,
      0,
    );
  }

  /** Requires a string field. */
  static required(value: string | undefined, param: string): string {
    if (value === undefined || value === "")
      throw invalidRequest(`Missing required param: ${param}.`, "parameter_missing", param);
    return value;
  }
}
