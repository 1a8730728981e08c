/** A buyer-facing message settlekit asks the host to deliver (email, SMS…). */
export type BuyerNotification =
  | {
      readonly kind: "payment_succeeded";
      readonly paymentId: string;
      readonly buyerId: string;
      readonly amount: bigint;
      readonly currency: string;
      /** From the host's delivery estimator, when it supplied one. */
      readonly estimatedDeliveryAt?: Date;
    }
  | {
      readonly kind: "payment_pending";
      readonly paymentId: string;
      readonly buyerId: string;
      /** What the buyer must do, in plain words (e.g. bank transfer instructions). */
      readonly actionRequired?: string;
    }
  | {
      readonly kind: "payment_failed";
      readonly paymentId: string;
      readonly buyerId: string;
      readonly reason: string;
    };

/** A seller-facing message: a payout reached the seller, or failed and why (with what happens next). */
export type SellerNotification =
  | {
      readonly kind: "payout_paid";
      readonly payoutId: string;
      readonly sellerId: string;
      readonly amount: bigint;
      readonly currency: string;
    }
  | {
      readonly kind: "payout_failed";
      readonly payoutId: string;
      readonly sellerId: string;
      readonly amount: bigint;
      readonly currency: string;
      /** Machine-readable (`account_closed`, `psp_unavailable`…). */
      readonly reason: string;
      /** For the seller, in plain words: what happened and what happens to the money. */
      readonly message: string;
    };

/** Anything settlekit asks the host to tell a buyer or a seller. */
export type Notification = BuyerNotification | SellerNotification;

/**
 * Delivers buyer and seller notifications. Called from durable jobs, never inside a payment's transaction:
 * a failing sender is retried with backoff and never blocks a payment. May be called more than
 * once for the same notification (at least once); `notificationId` is stable across retries.
 */
export interface Notifier {
  notify(notification: Notification & { readonly notificationId: string }): Promise<void>;
}
