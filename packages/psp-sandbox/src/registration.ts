import type { CreateHostedPaymentInput, HostedPayment } from "@settlekit/core";
import { assertCurrency, PAYMENT_METHODS, requestFingerprint } from "@settlekit/core";
import type { SandboxContext } from "./context.js";
import { idempotencyMismatch, rejected, timedOut, unavailable } from "./errors.js";
import type { SandboxPayment } from "./records.js";
import { newId } from "./records.js";
import { expire } from "./transitions.js";

const invalid = (param: string, message: string, cause?: unknown) =>
  rejected(message, "parameter_invalid", param, cause);

function assertHttpUrl(value: unknown, param: string): void {
  let url: URL | undefined;
  try {
    url = new URL(String(value));
  } catch {}
  // Only http(s): a `javascript:` success URL would turn the hosted page's redirect into XSS.
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw invalid(param, `${param} must be an absolute http(s) URL.`);
  }
}

/** Input checks a real PSP makes before it registers anything (nothing is stored on failure). */
function validate(input: CreateHostedPaymentInput, now: Date): void {
  if (typeof input.idempotencyKey !== "string" || input.idempotencyKey === "") {
    throw invalid("idempotencyKey", "idempotencyKey is required.");
  }
  if (typeof input.paymentId !== "string" || input.paymentId === "") {
    throw invalid("paymentId", "paymentId is required.");
  }
  if (typeof input.amount !== "bigint" || input.amount <= 0n) {
    throw invalid("amount", "amount must be a positive bigint of minor units.");
  }
  try {
    assertCurrency(input.currency);
  } catch (cause) {
    throw invalid("currency", `Unsupported currency ${JSON.stringify(input.currency)}.`, cause);
  }
  if (!PAYMENT_METHODS.includes(input.method))
    throw invalid("method", `Unknown method ${String(input.method)}.`);
  if (!Array.isArray(input.orders) || input.orders.length === 0) {
    throw invalid("orders", "At least one order is required.");
  }
  let total = 0n;
  input.orders.forEach((order, i) => {
    if (typeof order.amount !== "bigint" || order.amount <= 0n) {
      throw invalid(`orders.${i}.amount`, "Each order amount must be a positive bigint.");
    }
    if (!order.paymentOrderId) throw invalid(`orders.${i}.paymentOrderId`, "paymentOrderId is required.");
    total += order.amount;
  });
  if (total !== input.amount) {
    throw invalid("orders", `Orders add up to ${total}, not to the amount ${input.amount}.`);
  }
  assertHttpUrl(input.successUrl, "successUrl");
  assertHttpUrl(input.cancelUrl, "cancelUrl");
  if (input.expiresAt !== undefined && !(input.expiresAt.getTime() > now.getTime())) {
    throw invalid("expiresAt", "expiresAt must be in the future.");
  }
}

/** What an idempotency key is bound to: every parameter but the key, dates as ISO strings. */
function fingerprint(input: CreateHostedPaymentInput): string {
  const { idempotencyKey: _key, createdAt, expiresAt, ...rest } = input;
  return requestFingerprint({
    ...rest,
    createdAt: createdAt?.toISOString(),
    expiresAt: expiresAt?.toISOString(),
  });
}

/** The answer to a registration, the same on every replay (like Stripe's stored response). */
function hosted(ctx: SandboxContext, payment: SandboxPayment): HostedPayment {
  return {
    pspReference: payment.pspReference,
    redirectUrl: `${ctx.options.baseUrl}/pay/${payment.pspReference}`,
    status: "requires_payment",
    expiresAt: payment.expiresAt,
  };
}

/**
 * `createHostedPayment`: validates, honours the idempotency key (same key and parameters → the
 * same payment; different parameters → fatal `idempotency_error`), stores the payment and
 * schedules its expiry. Injected faults apply to every call, replays included.
 */
export function registerPayment(ctx: SandboxContext, input: CreateHostedPaymentInput): HostedPayment {
  const fault = ctx.faults.takeRegistrationFault();
  if (fault === "503") throw unavailable();
  const now = ctx.now();
  validate(input, now);
  const print = fingerprint(input);
  const known = ctx.state.registrationKeys.get(input.idempotencyKey);
  if (known && known.fingerprint !== print) throw idempotencyMismatch(input.idempotencyKey);
  let payment = known ? ctx.state.payments.get(known.reference) : undefined;
  if (!payment) {
    payment = {
      pspReference: newId("sbx_pay"),
      paymentId: input.paymentId,
      amount: input.amount,
      currency: input.currency,
      method: input.method,
      orders: input.orders.map((order) => ({ ...order })),
      successUrl: input.successUrl,
      cancelUrl: input.cancelUrl,
      buyerId: input.buyerId,
      metadata: { ...input.metadata },
      createdAt: now,
      expiresAt: input.expiresAt ?? new Date(now.getTime() + ctx.options.paymentTtlMs),
      status: "requires_payment",
      attempt: 0,
      amountRefunded: 0n,
      updatedAt: now,
    };
    ctx.state.payments.set(payment.pspReference, payment);
    ctx.state.registrationKeys.set(input.idempotencyKey, {
      fingerprint: print,
      reference: payment.pspReference,
    });
    const stored = payment;
    ctx.scheduler.at(stored.expiresAt, () => expire(ctx, stored, false));
  }
  // Like a response lost on the way back: the payment exists, the caller just never hears of it.
  if (fault === "timeout") throw timedOut();
  return hosted(ctx, payment);
}
