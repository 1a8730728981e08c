import { createHmac, timingSafeEqual } from "node:crypto";
import { ErrorCodes } from "../../src/errors.js";
import { isCurrencyCode } from "../../src/money/currency.js";
import type { Clock } from "../../src/ports/clock.js";
import type {
  CreateHostedPaymentInput,
  PaymentProvider,
  PspEvent,
  PspPaymentStatus,
  RefundResult,
} from "../../src/ports/psp.js";
import { PspError } from "../../src/runtime/psp-error.js";
import type { CapturedWebhook, PaymentOutcome, ProviderHarness } from "../../src/testing/index.js";

/**
 * A deterministic in-process PSP for core's own tests (core cannot depend on the sandbox, which
 * depends on core). It keeps its payments in memory, sends HMAC-signed JSON webhooks to a queue the
 * test drains, and follows the `PaymentProvider` contracts closely enough to pass
 * `runProviderConformance` (refunds included; no hosted-page closing, payouts, settlement reports
 * or disputes). Ids are counters, times come from the clock given: the same test, the same run.
 */
export interface FakePsp extends ProviderHarness {
  /** The webhooks sent since the last `webhooks()`, without draining them. */
  pending(): readonly CapturedWebhook[];
  /** The next refund is answered `pending` (a bank refund) and sends no webhook until `settleRefund`. */
  holdNextRefund(): void;
  /** The next refund is made, but its answer is lost (an indeterminate `PSP_TIMEOUT`). */
  loseNextRefundAnswer(): void;
  /**
   * A refund settles at the PSP (`succeeded`, or `failed`: a held one fails, or a succeeded one
   * bounces, its money back on the payment) and its webhook is sent.
   */
  settleRefund(refundReference: string, outcome: "succeeded" | "failed"): Promise<void>;
  /** How many `retrieveRefund` calls the PSP answered. */
  refundLookups(): number;
}

interface FakePayment {
  readonly ref: string;
  readonly input: CreateHostedPaymentInput;
  status: PspPaymentStatus;
  failureCode?: string;
  refunded: bigint;
  updatedAt: Date;
}

const SIGNATURE = "x-fake-signature";
const TOLERANCE_MS = 5 * 60_000;

const rejected = (message: string, param?: string) =>
  new PspError(ErrorCodes.PSP_REQUEST_REJECTED, "fatal", message, param ? { param } : {});
const notFound = (ref: string) => new PspError(ErrorCodes.NOT_FOUND, "fatal", `No payment ${ref}.`);
const badSignature = () =>
  new PspError(ErrorCodes.WEBHOOK_SIGNATURE_INVALID, "fatal", "The webhook signature does not verify.");

/** What a registration key is bound to. */
const registrationFingerprint = (i: CreateHostedPaymentInput) =>
  JSON.stringify([
    i.paymentId,
    String(i.amount),
    i.currency,
    i.method,
    i.successUrl,
    i.cancelUrl,
    i.orders.map((o) => [o.paymentOrderId, o.sellerId, String(o.amount)]),
  ]);

const bigintsAsText = (_key: string, value: unknown) =>
  typeof value === "bigint" ? value.toString() : value;

export function fakePsp(clock: Clock, options: { id?: string; secret?: string } = {}): FakePsp {
  const id = options.id ?? "fake";
  const secret = options.secret ?? "whsec_fake";
  const payments = new Map<string, FakePayment>();
  const keys = new Map<string, { fingerprint: string; ref: string }>();
  const refunds = new Map<string, { fingerprint: string; result: RefundResult }>();
  /** Every refund made, by its reference: what `retrieveRefund` reads. */
  const refundRecords = new Map<
    string,
    {
      pspReference: string;
      refundId: string;
      amount: bigint;
      currency: string;
      status: RefundResult["status"];
    }
  >();
  let outbox: CapturedWebhook[] = [];
  let counter = 0;
  let nextRegistrationFault: "unavailable" | "timeout" | undefined;
  let holdRefund = false;
  let loseRefundAnswer = false;
  let lookups = 0;
  const next = (prefix: string) => `${prefix}_${String(++counter).padStart(6, "0")}`;

  const sign = (rawBody: string, opts: { timestamp?: Date; secret?: string } = {}) => {
    const t = Math.floor((opts.timestamp ?? clock.now()).getTime() / 1000);
    const v1 = createHmac("sha256", opts.secret ?? secret)
      .update(`${t}.${rawBody}`)
      .digest("hex");
    return { [SIGNATURE]: `t=${t},v1=${v1}` };
  };
  const send = (type: string, data: Record<string, unknown>) => {
    const rawBody = JSON.stringify(
      { id: next("evt"), type, created: clock.now().toISOString(), data },
      bigintsAsText,
    );
    outbox.push({ rawBody, headers: { "content-type": "application/json", ...sign(rawBody) } });
  };
  const payment = (ref: string) => {
    const found = payments.get(ref);
    if (!found) throw notFound(ref);
    return found;
  };
  const move = (p: FakePayment, status: PspPaymentStatus, failureCode?: string) => {
    p.status = status;
    p.failureCode = failureCode;
    p.updatedAt = clock.now();
    send("payment", {
      pspReference: p.ref,
      paymentId: p.input.paymentId,
      status,
      amount: p.input.amount,
      currency: p.input.currency,
      ...(failureCode ? { failureCode } : {}),
    });
  };

  const provider: PaymentProvider = {
    id,
    capabilities: {
      methods: ["card", "bank_transfer"],
      currencies: "any",
      refunds: true,
      partialRefunds: true,
      payouts: false,
      settlementReports: false,
      cancelHostedPayments: false,
    },
    async createHostedPayment(input) {
      if (input.amount <= 0n) throw rejected("The amount must be positive.", "amount");
      if (input.orders.reduce((s, o) => s + o.amount, 0n) !== input.amount)
        throw rejected("The orders do not add up to the amount.", "orders");
      if (!isCurrencyCode(input.currency)) throw rejected(`Unknown currency ${input.currency}.`, "currency");
      const fault = nextRegistrationFault;
      nextRegistrationFault = undefined;
      if (fault === "unavailable")
        throw new PspError(ErrorCodes.PSP_UNAVAILABLE, "retryable", "503 from the fake PSP.");
      const fingerprint = registrationFingerprint(input);
      const known = keys.get(input.idempotencyKey);
      if (known && known.fingerprint !== fingerprint)
        throw rejected("This idempotency key was used with other parameters.");
      let ref = known?.ref;
      if (!ref) {
        ref = next("fpay");
        keys.set(input.idempotencyKey, { fingerprint, ref });
        payments.set(ref, { ref, input, status: "requires_payment", refunded: 0n, updatedAt: clock.now() });
      }
      if (fault === "timeout")
        throw new PspError(ErrorCodes.PSP_TIMEOUT, "indeterminate", "The answer was lost.");
      const page = new URL(`https://fake-psp.example/pay/${ref}`);
      return {
        pspReference: ref,
        redirectUrl: page.toString(),
        status: "requires_payment",
        ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}),
      };
    },
    async retrievePayment({ pspReference }) {
      const p = payment(pspReference);
      return {
        pspReference,
        paymentId: p.input.paymentId,
        status: p.status,
        amount: p.input.amount,
        currency: p.input.currency,
        amountRefunded: p.refunded,
        ...(p.failureCode ? { failureCode: p.failureCode } : {}),
        updatedAt: p.updatedAt,
      };
    },
    async parseWebhook({ rawBody, headers, now }) {
      const body = typeof rawBody === "string" ? rawBody : new TextDecoder().decode(rawBody);
      const header = headers[SIGNATURE];
      const match = typeof header === "string" ? /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header) : null;
      if (!match) throw badSignature();
      const t = Number(match[1]);
      const expected = createHmac("sha256", secret).update(`${t}.${body}`).digest();
      if (!timingSafeEqual(expected, Buffer.from(match[2]!, "hex"))) throw badSignature();
      if (Math.abs((now ?? clock.now()).getTime() - t * 1000) > TOLERANCE_MS) throw badSignature();
      const event = JSON.parse(body) as {
        id: string;
        type: string;
        created: string;
        data: Record<string, string>;
      };
      const occurredAt = new Date(event.created);
      const d = event.data;
      if (event.type === "payment") {
        const base = {
          kind: "payment" as const,
          eventId: event.id,
          pspReference: d.pspReference!,
          paymentId: d.paymentId,
          occurredAt,
        };
        const money = { amount: BigInt(d.amount!), currency: d.currency! };
        if (d.status === "succeeded") return [{ ...base, status: "succeeded", ...money }];
        const status = d.status as Exclude<PspPaymentStatus, "succeeded">;
        return [{ ...base, status, ...money, ...(d.failureCode ? { failureCode: d.failureCode } : {}) }];
      }
      if (event.type === "refund") {
        return [
          {
            kind: "refund",
            eventId: event.id,
            pspReference: d.pspReference!,
            refundReference: d.refundReference!,
            ...(d.refundId ? { refundId: d.refundId } : {}),
            status: (d.status ?? "succeeded") as "succeeded" | "pending" | "failed",
            amount: BigInt(d.amount!),
            currency: d.currency!,
            occurredAt,
          },
        ] satisfies PspEvent[];
      }
      return [{ kind: "ignored", eventId: event.id, type: event.type, occurredAt }];
    },
    async refund(input) {
      const fingerprint = JSON.stringify([input.pspReference, String(input.amount), input.currency]);
      const known = refunds.get(input.idempotencyKey);
      if (known) {
        if (known.fingerprint !== fingerprint)
          throw rejected("This idempotency key was used for another refund.");
        return { ...known.result };
      }
      const p = payment(input.pspReference);
      if (p.status !== "succeeded") throw rejected(`Payment ${p.ref} was not captured.`);
      if (input.currency !== p.input.currency)
        throw rejected("The refund's currency is not the payment's.", "currency");
      if (input.amount <= 0n) throw rejected("The amount must be positive.", "amount");
      if (p.refunded + input.amount > p.input.amount)
        throw new PspError(ErrorCodes.REFUND_EXCEEDS_CAPTURED, "fatal", "More than what is left to refund.");
      p.refunded += input.amount;
      const held = holdRefund;
      holdRefund = false;
      const result: RefundResult = { refundReference: next("fre"), status: held ? "pending" : "succeeded" };
      refunds.set(input.idempotencyKey, { fingerprint, result });
      refundRecords.set(result.refundReference, {
        pspReference: p.ref,
        refundId: input.refundId,
        amount: input.amount,
        currency: input.currency,
        status: result.status,
      });
      if (!held) {
        send("refund", {
          pspReference: p.ref,
          refundReference: result.refundReference,
          refundId: input.refundId,
          status: "succeeded",
          amount: input.amount,
          currency: input.currency,
        });
      }
      if (loseRefundAnswer) {
        loseRefundAnswer = false;
        throw new PspError(ErrorCodes.PSP_TIMEOUT, "indeterminate", "The refund's answer was lost.");
      }
      return { ...result };
    },
    async retrieveRefund(input) {
      lookups++;
      if (!input.refundReference && !input.refundId)
        throw rejected("refundReference or refundId is required.", "refundReference");
      payment(input.pspReference);
      for (const [refundReference, r] of refundRecords) {
        if (r.pspReference !== input.pspReference) continue;
        const hit = input.refundReference
          ? refundReference === input.refundReference
          : r.refundId === input.refundId;
        if (hit) {
          const { pspReference: _ref, ...rest } = r;
          return { refundReference, ...rest };
        }
      }
      return null;
    },
  };

  const payable = (p: FakePayment) => p.status === "requires_payment" || p.status === "failed";
  return {
    provider,
    now: () => clock.now(),
    async pay(ref, outcome: PaymentOutcome) {
      const p = payment(ref);
      if (!payable(p)) throw new Error(`fake PSP: payment ${ref} is ${p.status}, it cannot be paid`);
      if (outcome === "succeeded") move(p, "succeeded");
      else if (outcome === "processing") move(p, "processing");
      else move(p, "failed", outcome === "declined" ? "card_declined" : "insufficient_funds");
    },
    async settle(ref) {
      const p = payment(ref);
      if (p.status !== "processing") throw new Error(`fake PSP: payment ${ref} is not processing`);
      move(p, "succeeded");
    },
    async expire(ref) {
      const p = payment(ref);
      if (!payable(p)) throw new Error(`fake PSP: payment ${ref} is ${p.status}, it cannot expire`);
      move(p, "expired");
    },
    async webhooks() {
      const sent = outbox;
      outbox = [];
      return sent;
    },
    pending: () => outbox,
    sign,
    ignoredEventBody: () =>
      JSON.stringify({
        id: next("evt"),
        type: "customer.created",
        created: clock.now().toISOString(),
        data: {},
      }),
    registrations: async () => payments.size,
    failNextRegistration(mode) {
      nextRegistrationFault = mode;
    },
    holdNextRefund() {
      holdRefund = true;
    },
    loseNextRefundAnswer() {
      loseRefundAnswer = true;
    },
    async settleRefund(refundReference, outcome) {
      const r = refundRecords.get(refundReference);
      if (!r) throw new Error(`fake PSP: no refund ${refundReference}`);
      if (r.status === "failed" || (outcome === "succeeded" && r.status !== "pending"))
        throw new Error(`fake PSP: refund ${refundReference} is ${r.status}`);
      r.status = outcome;
      if (outcome === "failed") payment(r.pspReference).refunded -= r.amount;
      send("refund", { ...r, refundReference });
    },
    refundLookups: () => lookups,
    async cleanup() {},
  };
}
