import type { AlertSeverity } from "./alerts.js";
import type { JsonObject } from "./json.js";

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

/**
 * A message for the platform's operators (an {@link Alert} sent through `notifierAlertSink`), e.g.
 * the nightly reconciliation's discrepancies. `to` is who the host should tell (addresses or
 * group names, as configured on the sink).
 */
export interface OperatorNotification {
  readonly kind: "operator_alert";
  readonly to: readonly string[];
  readonly alertId: string;
  /** The alert's own kind, e.g. `reconciliation.discrepancies`. */
  readonly alertKind: string;
  readonly severity: AlertSeverity;
  /** A subject line. */
  readonly title: string;
  /** The body: a few lines for a human. */
  readonly summary: string;
  readonly occurredAt: Date;
  /** The alert's machine-readable details (counts, totals, run id). */
  readonly data: JsonObject;
}

/** Anything settlekit asks the host to tell a buyer, a seller or an operator. */
export type Notification = BuyerNotification | SellerNotification | OperatorNotification;

/**
 * Delivers buyer, seller and operator notifications. Called from durable jobs, never inside a payment's transaction:
 * a failing sender is retried with backoff and never blocks a payment. May be called more than
 * once for the same notification (at least once); `notificationId` is stable across retries.
 */
export interface Notifier {
  notify(notification: Notification & { readonly notificationId: string }): Promise<void>;
}
