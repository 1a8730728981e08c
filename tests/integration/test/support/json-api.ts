import type { PaymentSystem } from "@settlekit/core";
import {
  disputeView,
  listView,
  paymentEventView,
  paymentOrderView,
  paymentSummaryView,
  paymentView,
  refundView,
  walletView,
} from "@settlekit/core";

type Args<K extends keyof PaymentSystem> = PaymentSystem[K] extends (...args: infer A) => unknown ? A : never;

/**
 * The SDK's typed results through `@settlekit/core`'s views: the snake_case JSON the REST API
 * answers (the lifecycle suites assert on that JSON, as a host's client sees it). Everything
 * else — the worker's entry points, webhooks, attempts, dead letters — is the typed system as is.
 * `createPayment` answers 202 while the registration is queued for a retry, 201 otherwise, as
 * the router does.
 */
export function jsonApi(system: PaymentSystem) {
  return {
    ...system,
    async createPayment(...args: Args<"createPayment">) {
      const { payment, replayed } = await system.createPayment(...args);
      return { status: payment.status === "created" ? 202 : 201, body: paymentView(payment), replayed };
    },
    getPayment: async (...args: Args<"getPayment">) => paymentView(await system.getPayment(...args)),
    retryPayment: async (...args: Args<"retryPayment">) => paymentView(await system.retryPayment(...args)),
    refund: async (...args: Args<"refund">) => refundView(await system.refund(...args)),
    async refundPayment(...args: Args<"refundPayment">) {
      const { refund, replayed } = await system.refundPayment(...args);
      return { status: 201, body: refundView(refund), replayed };
    },
    getPaymentOrder: async (...args: Args<"getPaymentOrder">) =>
      paymentOrderView(await system.getPaymentOrder(...args)),
    listPaymentEvents: async (...args: Args<"listPaymentEvents">) =>
      listView(await system.listPaymentEvents(...args), paymentEventView),
    searchPayments: async (...args: Args<"searchPayments">) =>
      listView(await system.searchPayments(...args), paymentSummaryView),
    fulfilOrder: async (...args: Args<"fulfilOrder">) => paymentOrderView(await system.fulfilOrder(...args)),
    sellerWallet: async (...args: Args<"sellerWallet">) => walletView(await system.sellerWallet(...args)),
    listSellerOrders: async (...args: Args<"listSellerOrders">) =>
      listView(await system.listSellerOrders(...args), paymentOrderView),
    resolveReview: async (...args: Args<"resolveReview">) => paymentView(await system.resolveReview(...args)),
    listDisputes: async (...args: Args<"listDisputes">) =>
      listView(await system.listDisputes(...args), disputeView),
    getDispute: async (...args: Args<"getDispute">) => disputeView(await system.getDispute(...args)),
  };
}

/** {@link jsonApi}'s shape. */
export type JsonApi = ReturnType<typeof jsonApi>;
