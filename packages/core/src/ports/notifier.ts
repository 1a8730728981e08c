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

/**
 * Delivers buyer notifications. Called from durable jobs, never inside a payment's transaction:
 * a failing sender is retried with backoff and never blocks a payment. May be called more than
 * once for the same notification (at least once); `notificationId` is stable across retries.
 */
export interface Notifier {
  notify(notification: BuyerNotification & { readonly notificationId: string }): Promise<void>;
}
