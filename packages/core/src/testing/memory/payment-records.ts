import type { Dispute } from "../../domain/dispute.js";
import type { PaymentAttempt } from "../../domain/payment-attempt.js";
import type { Refund } from "../../domain/refund.js";
import type { DisputeRepository } from "../../ports/disputes.js";
import type {
  PaymentAttemptRepository,
  RefundRepository,
  WebhookEventRepository,
} from "../../ports/payments.js";
import { attemptColumns, disputeColumns, refundColumns } from "./columns.js";
import type { Row, Sequences, Working } from "./state.js";
import { clone, compare, json, key, violation } from "./state.js";

const oldestFirst = <T extends { createdAt: Date; id: string }>(a: Row<T>, b: Row<T>) =>
  compare(a.value.createdAt, b.value.createdAt) || compare(a.value.id, b.value.id);

export function memoryPaymentAttempts(w: Working, seq: Sequences): PaymentAttemptRepository {
  const assertUnique = (a: PaymentAttempt) => {
    for (const row of w.read("paymentAttempts").values()) {
      const other = row.value;
      if (
        other.pspId === a.pspId &&
        other.pspReference === a.pspReference &&
        key(other.paymentId, other.attempt) !== key(a.paymentId, a.attempt)
      )
        throw violation(
          "payment_attempts(psp_id, psp_reference)",
          `psp reference ${a.pspReference} is taken`,
        );
    }
  };
  const find = (match: (a: PaymentAttempt) => boolean) => {
    for (const row of w.read("paymentAttempts").values()) if (match(row.value)) return clone(row.value);
    return null;
  };
  return {
    async insert(attempt) {
      const id = key(attempt.paymentId, attempt.attempt);
      if (w.read("paymentAttempts").has(id))
        throw violation("payment_attempts(payment_id, attempt)", "attempt exists");
      if (!w.read("payments").has(attempt.paymentId))
        throw violation("payment_attempts.payment_id", `payment ${attempt.paymentId} does not exist`);
      assertUnique(attempt);
      w.write("paymentAttempts").set(id, { value: attemptColumns(attempt), seq: seq.next() });
    },
    async get(paymentId, attempt) {
      const row = w.read("paymentAttempts").get(key(paymentId, attempt));
      return row ? clone(row.value) : null;
    },
    findByPspReference: async (pspId, pspReference) =>
      find((a) => a.pspId === pspId && a.pspReference === pspReference),
    findByCaptureRefundReference: async (pspId, reference) =>
      find((a) => a.pspId === pspId && a.captureRefundReference === reference),
    async listByPayment(paymentId) {
      return [...w.read("paymentAttempts").values()]
        .filter((r) => r.value.paymentId === paymentId)
        .sort((a, b) => a.value.attempt - b.value.attempt)
        .map((r) => clone(r.value));
    },
    async update(next) {
      const id = key(next.paymentId, next.attempt);
      const row = w.read("paymentAttempts").get(id);
      if (!row || row.value.version !== next.version - 1) return false;
      assertUnique(next);
      w.write("paymentAttempts").set(id, { ...row, value: attemptColumns(next) });
      return true;
    },
    async listStaleCaptureRefunds({ updatedBefore, now, limit }) {
      return [...w.read("paymentAttempts").values()]
        .filter(
          (r) =>
            r.value.captureRefundStatus === "pending" &&
            r.value.updatedAt < updatedBefore &&
            (r.checkAfter == null || r.checkAfter <= now),
        )
        .sort(
          (a, b) =>
            compare(a.value.updatedAt, b.value.updatedAt) ||
            compare(a.value.paymentId, b.value.paymentId) ||
            a.value.attempt - b.value.attempt,
        )
        .slice(0, limit)
        .map((r) => clone(r.value));
    },
    async claimCaptureRefundCheck({ paymentId, attempt, now, until }) {
      const id = key(paymentId, attempt);
      const row = w.read("paymentAttempts").get(id);
      if (row?.value.captureRefundStatus !== "pending" || (row.checkAfter != null && row.checkAfter > now))
        return false;
      w.write("paymentAttempts").set(id, { ...row, checkAfter: new Date(until.getTime()) });
      return true;
    },
  };
}

/** As read back from a database: settlekit's own refunds carry no `origin` (the domain's default). */
const storedRefund = (r: Refund): Refund => {
  const { origin, ...rest } = refundColumns(r);
  return origin === "external" ? { ...rest, origin } : rest;
};

export function memoryRefunds(w: Working, seq: Sequences): RefundRepository {
  /** One row per payment order and PSP refund reference. */
  const assertUnique = (r: Refund) => {
    if (r.pspRefundReference === undefined) return;
    for (const row of w.read("refunds").values()) {
      const other = row.value;
      if (
        other.id !== r.id &&
        other.pspRefundReference === r.pspRefundReference &&
        other.paymentOrderId === r.paymentOrderId
      )
        throw violation(
          "refunds(psp_refund_reference, payment_order_id)",
          `refund ${r.pspRefundReference} is booked`,
        );
    }
  };
  const byReference = (reference: string) =>
    [...w.read("refunds").values()].filter((r) => r.value.pspRefundReference === reference).sort(oldestFirst);
  return {
    async insert(refund) {
      if (w.read("refunds").has(refund.id)) throw violation("refunds(id)", `refund ${refund.id} exists`);
      if (!w.read("payments").has(refund.paymentId))
        throw violation("refunds.payment_id", `payment ${refund.paymentId} does not exist`);
      if (!w.read("paymentOrders").has(refund.paymentOrderId))
        throw violation("refunds.payment_order_id", `order ${refund.paymentOrderId} does not exist`);
      assertUnique(refund);
      w.write("refunds").set(refund.id, { value: storedRefund(refund), seq: seq.next() });
    },
    async get(id) {
      const row = w.read("refunds").get(id);
      return row ? clone(row.value) : null;
    },
    async listByPayment(paymentId) {
      return [...w.read("refunds").values()]
        .filter((r) => r.value.paymentId === paymentId)
        .sort(oldestFirst)
        .map((r) => clone(r.value));
    },
    async findByPspReference(reference) {
      const [first] = byReference(reference);
      return first ? clone(first.value) : null;
    },
    async listByPspReference(reference) {
      return byReference(reference).map((r) => clone(r.value));
    },
    async update(next) {
      const row = w.read("refunds").get(next.id);
      if (!row || row.value.version !== next.version - 1) return false;
      assertUnique(next);
      w.write("refunds").set(next.id, { ...row, value: storedRefund(next) });
      return true;
    },
    async listStale({ updatedBefore, now, limit }) {
      return [...w.read("refunds").values()]
        .filter(
          (r) =>
            r.value.status === "pending" &&
            r.value.updatedAt < updatedBefore &&
            (r.checkAfter == null || r.checkAfter <= now),
        )
        .sort(
          (a, b) =>
            a.value.updatedAt.getTime() - b.value.updatedAt.getTime() ||
            (a.value.id < b.value.id ? -1 : a.value.id > b.value.id ? 1 : 0),
        )
        .slice(0, limit)
        .map((r) => clone(r.value));
    },
    async claimCheck({ id, now, until }) {
      const row = w.read("refunds").get(id);
      if (row?.value.status !== "pending" || (row.checkAfter != null && row.checkAfter > now)) return false;
      w.write("refunds").set(id, { ...row, checkAfter: new Date(until.getTime()) });
      return true;
    },
  };
}

export function memoryWebhookEvents(w: Working, seq: Sequences): WebhookEventRepository {
  return {
    async insert(event) {
      const id = key(event.pspId, event.eventId);
      if (w.read("webhookEvents").has(id)) return false;
      w.write("webhookEvents").set(id, {
        value: { ...clone(event), payload: json(event.payload) },
        seq: seq.next(),
      });
      return true;
    },
    async get(pspId, eventId) {
      const row = w.read("webhookEvents").get(key(pspId, eventId));
      return row ? clone(row.value) : null;
    },
    async update({ pspId, eventId, status, now, error }) {
      const id = key(pspId, eventId);
      const row = w.read("webhookEvents").get(id);
      if (!row) return false;
      const value = {
        ...row.value,
        status,
        attempts: row.value.attempts + 1,
        lastError: error ?? null,
        processedAt: status === "processed" ? new Date(now.getTime()) : null,
      };
      w.write("webhookEvents").set(id, { value, seq: row.seq });
      return true;
    },
    async listPending({ limit }) {
      return [...w.read("webhookEvents").values()]
        .filter((r) => r.value.status === "pending")
        .sort((a, b) => compare(a.value.receivedAt, b.value.receivedAt) || a.seq - b.seq)
        .slice(0, limit)
        .map((r) => clone(r.value));
    },
  };
}

export function memoryDisputes(w: Working, seq: Sequences): DisputeRepository {
  const assertUnique = (d: Dispute) => {
    for (const row of w.read("disputes").values()) {
      const other = row.value;
      if (other.id !== d.id && other.pspId === d.pspId && other.pspDisputeReference === d.pspDisputeReference)
        throw violation("disputes(psp_id, psp_dispute_reference)", `dispute ${d.pspDisputeReference} exists`);
    }
  };
  const newestFirst = (a: Row<Dispute>, b: Row<Dispute>) => oldestFirst(b, a);
  return {
    async insert(dispute) {
      if (w.read("disputes").has(dispute.id)) throw violation("disputes(id)", `dispute ${dispute.id} exists`);
      if (!w.read("payments").has(dispute.paymentId))
        throw violation("disputes.payment_id", `payment ${dispute.paymentId} does not exist`);
      assertUnique(dispute);
      w.write("disputes").set(dispute.id, { value: disputeColumns(dispute), seq: seq.next() });
    },
    async get(id) {
      const row = w.read("disputes").get(id);
      return row ? clone(row.value) : null;
    },
    async findByPspReference(pspId, reference) {
      for (const row of w.read("disputes").values())
        if (row.value.pspId === pspId && row.value.pspDisputeReference === reference) return clone(row.value);
      return null;
    },
    async listByPayment(paymentId) {
      return [...w.read("disputes").values()]
        .filter((r) => r.value.paymentId === paymentId)
        .sort(oldestFirst)
        .map((r) => clone(r.value));
    },
    async list({ statuses, limit, beforeId }) {
      let anchor: Row<Dispute> | undefined;
      if (beforeId !== undefined) {
        anchor = w.read("disputes").get(beforeId);
        if (!anchor) return [];
      }
      return [...w.read("disputes").values()]
        .filter(
          (r) =>
            (statuses === undefined || statuses.includes(r.value.status)) &&
            (anchor === undefined || newestFirst(anchor, r) < 0),
        )
        .sort(newestFirst)
        .slice(0, limit)
        .map((r) => clone(r.value));
    },
    async update(next) {
      const row = w.read("disputes").get(next.id);
      if (!row || row.value.version !== next.version - 1) return false;
      assertUnique(next);
      w.write("disputes").set(next.id, { value: disputeColumns(next), seq: row.seq });
      return true;
    },
  };
}
