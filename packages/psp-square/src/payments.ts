import type { PaymentInstrument, PspPaymentStatus, RetrievedPayment } from "@settlekit/core";
import { PspError } from "@settlekit/core";
import type { Square } from "square";
import { call } from "./errors.js";
import type { ResolvedSquareOptions } from "./options.js";

/** A Square amount as exact minor units (the SDK gives `bigint`; a plain JSON number is accepted when safe). */
export function minor(value: unknown, what: string): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
  throw new PspError("PSP_TIMEOUT", "indeterminate", `Square sent no exact amount for ${what}.`, {
    pspCode: "malformed_response",
  });
}

/** A Square payment's status in the port's words (`failed` for a decline, a returned ACH debit or a voided payment). */
export function paymentStatus(status: string | null | undefined): PspPaymentStatus {
  switch (status) {
    case "COMPLETED":
      return "succeeded";
    case "APPROVED":
    case "PENDING":
      return "processing";
    case "FAILED":
    case "CANCELED":
      return "failed";
    default:
      return "requires_payment";
  }
}

/** How the buyer paid (card type, or ACH), when Square says. */
export function instrumentOf(payment: {
  sourceType?: string | null;
  cardDetails?: { card?: { cardType?: string | null } | null } | null;
}): PaymentInstrument | undefined {
  if (payment.sourceType === "BANK_ACCOUNT") return "bank_transfer";
  const type = payment.cardDetails?.card?.cardType;
  if (type === "CREDIT") return "credit_card";
  if (type === "DEBIT") return "debit_card";
  return undefined;
}

type ErrorsHolder =
  | { errors?: readonly { code?: string | null; detail?: string | null }[] | null }
  | null
  | undefined;

/** Square's failure code and message of a failed payment (`GENERIC_DECLINE`, `INSUFFICIENT_FUNDS`…; `CANCELED` for a void). */
export function failureOf(payment: {
  status?: string | null;
  cardDetails?: ErrorsHolder;
  bankAccountDetails?: ErrorsHolder;
}): { failureCode?: string; failureMessage?: string } {
  if (payment.status === "CANCELED")
    return { failureCode: "CANCELED", failureMessage: "The payment was canceled." };
  if (payment.status !== "FAILED") return {};
  const error = payment.cardDetails?.errors?.[0] ?? payment.bankAccountDetails?.errors?.[0];
  return {
    failureCode: error?.code ?? "FAILED",
    ...(error?.detail ? { failureMessage: error.detail } : {}),
  };
}

/** The order behind a `pspReference` (a payment link's order). */
export async function orderOf(options: ResolvedSquareOptions, orderId: string): Promise<Square.Order> {
  const { order } = await call("Retrieving the Square order", () => options.client.orders.get({ orderId }));
  if (!order)
    throw new PspError("NOT_FOUND", "fatal", `Square has no order ${orderId}.`, { pspCode: "NOT_FOUND" });
  return order;
}

/**
 * The payments taken on an order's page, oldest first: `payments.list` at the location from the
 * order's creation on, kept to those whose `order_id` is the order (Square lists no payments by
 * order; `order.tenders` names only the successful ones, and the sweeper needs declines too).
 */
export async function paymentsOf(
  options: ResolvedSquareOptions,
  order: Square.Order,
): Promise<Square.Payment[]> {
  return call("Listing the Square payments of the order", async () => {
    const page = await options.client.payments.list({
      locationId: options.locationId,
      ...(order.createdAt ? { beginTime: order.createdAt } : {}),
      sortOrder: "ASC",
    });
    const payments: Square.Payment[] = [];
    // Every page is read inside `call`, so a failure on a later page is classified too.
    for await (const payment of page) if (payment.orderId === order.id) payments.push(payment);
    return payments;
  });
}

/** The payment of the order that holds money (completed, else pending/approved), if any. */
export const activePayment = (payments: readonly Square.Payment[]): Square.Payment | undefined =>
  payments.find((p) => p.status === "COMPLETED") ??
  payments.find((p) => p.status === "APPROVED" || p.status === "PENDING");

/**
 * The order's state for the sweeper: `succeeded` once a payment completed (its amount, exact), `processing` while one
 * is APPROVED or PENDING (ACH), `expired` for an order canceled unpaid, `failed` after a decline
 * (with Square's code), else `requires_payment`.
 */
export async function retrieveOrderPayment(
  options: ResolvedSquareOptions,
  pspReference: string,
): Promise<RetrievedPayment> {
  const order = await orderOf(options, pspReference);
  const payments = await paymentsOf(options, order);
  const active = activePayment(payments);
  const last = payments.at(-1);
  const status: PspPaymentStatus = active
    ? paymentStatus(active.status)
    : order.state === "CANCELED"
      ? "expired"
      : last
        ? paymentStatus(last.status)
        : "requires_payment";
  const money = active?.amountMoney ?? order.totalMoney;
  const refunded = payments.reduce(
    (sum, p) => sum + (p.refundedMoney ? minor(p.refundedMoney.amount, "refunded_money") : 0n),
    0n,
  );
  const reported = active ?? last;
  const instrument = reported ? instrumentOf(reported) : undefined;
  const updated = [order.updatedAt, ...payments.map((p) => p.updatedAt)]
    .filter((t): t is string => typeof t === "string")
    .map((t) => Date.parse(t));
  return {
    pspReference,
    paymentId: order.referenceId ?? "",
    status,
    amount: minor(money?.amount, "the order"),
    currency: String(money?.currency ?? options.currency),
    amountRefunded: refunded,
    ...(instrument ? { instrument } : {}),
    ...(status === "failed" && last ? failureOf(last) : {}),
    updatedAt: new Date(updated.length > 0 ? Math.max(...updated) : options.clock.now().getTime()),
  };
}
