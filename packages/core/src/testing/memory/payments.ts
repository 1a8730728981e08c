import type { Payment } from "../../domain/payment.js";
import type { PaymentOrder } from "../../domain/payment-order.js";
import type { PaymentOrderRepository, PaymentRepository } from "../../ports/payments.js";
import { orderColumns, paymentColumns } from "./columns.js";
import type { OrderRow, PaymentRow, Sequences, Working } from "./state.js";
import { clone, compare, json, violation } from "./state.js";

const stored = (c: Payment): Payment => ({ ...paymentColumns(c), metadata: json(c.metadata) });

/** Newest first: `created_at` then id, both descending. */
const newestFirst = (a: { createdAt: Date; id: string }, b: { createdAt: Date; id: string }) =>
  compare(b.createdAt, a.createdAt) || compare(b.id, a.id);

/** Strictly after `anchor` in newest-first order (keyset paging). */
const after = (row: { createdAt: Date; id: string }, anchor: { createdAt: Date; id: string }) =>
  newestFirst(anchor, row) < 0;

export function memoryPayments(w: Working, seq: Sequences): PaymentRepository {
  /** `(pspId, pspReference)` is unique among payments that have a reference. */
  const assertUniqueReference = (c: Payment) => {
    if (c.pspReference === undefined) return;
    for (const row of w.read("payments").values()) {
      const other = row.value;
      if (other.id !== c.id && other.pspId === c.pspId && other.pspReference === c.pspReference)
        throw violation("payments(psp_id, psp_reference)", `psp reference ${c.pspReference} is taken`);
    }
  };
  const byReference = (pspId: string, pspReference: string): Payment | null => {
    for (const row of w.read("payments").values())
      if (row.value.pspId === pspId && row.value.pspReference === pspReference) return clone(row.value);
    for (const row of w.read("paymentAttempts").values()) {
      if (row.value.pspId === pspId && row.value.pspReference === pspReference) {
        const payment = w.read("payments").get(row.value.paymentId);
        return payment ? clone(payment.value) : null;
      }
    }
    return null;
  };

  return {
    async insert(payment) {
      if (w.read("payments").has(payment.id)) throw violation("payments(id)", `payment ${payment.id} exists`);
      assertUniqueReference(payment);
      w.write("payments").set(payment.id, { value: stored(payment), seq: seq.next(), checkAfter: null });
    },
    async get(id) {
      const row = w.read("payments").get(id);
      return row ? clone(row.value) : null;
    },
    async findByPspReference(pspId, pspReference) {
      return byReference(pspId, pspReference);
    },
    async update(next) {
      const row = w.read("payments").get(next.id);
      if (!row || row.value.version !== next.version - 1) return false;
      assertUniqueReference(next);
      w.write("payments").set(next.id, { value: stored(next), seq: row.seq, checkAfter: null });
      return true;
    },
    async listStale({ statuses, updatedBefore, now, limit }) {
      return [...w.read("payments").values()]
        .filter(
          (r) =>
            statuses.includes(r.value.status) &&
            r.value.updatedAt < updatedBefore &&
            (r.checkAfter === null || r.checkAfter <= now),
        )
        .sort((a, b) => compare(a.value.updatedAt, b.value.updatedAt) || a.seq - b.seq)
        .slice(0, limit)
        .map((r) => clone(r.value));
    },
    async deferCheck(id, until) {
      const row = w.read("payments").get(id);
      if (row)
        w.write("payments").set(id, { ...row, checkAfter: new Date(until.getTime()) } satisfies PaymentRow);
    },
    async list({ buyerId, status, limit, beforeId }) {
      let anchor: Payment | undefined;
      if (beforeId !== undefined) {
        anchor = w.read("payments").get(beforeId)?.value;
        if (!anchor) return []; // as in SQL: comparing with an unknown anchor matches nothing
      }
      return [...w.read("payments").values()]
        .map((r) => r.value)
        .filter(
          (c) =>
            (buyerId === undefined || c.buyerId === buyerId) &&
            (status === undefined || c.status === status) &&
            (anchor === undefined || after(c, anchor)),
        )
        .sort(newestFirst)
        .slice(0, limit)
        .map(clone);
    },
  };
}

const storedOrder = (o: PaymentOrder): PaymentOrder => ({ ...orderColumns(o), metadata: json(o.metadata) });

export function memoryPaymentOrders(w: Working, seq: Sequences): PaymentOrderRepository {
  const update = (next: PaymentOrder): boolean => {
    const row = w.read("paymentOrders").get(next.id);
    if (!row || row.value.version !== next.version - 1) return false;
    // payment_id is not among the written columns: an update never moves an order.
    w.write("paymentOrders").set(next.id, {
      ...row,
      value: { ...storedOrder(next), paymentId: row.value.paymentId },
    });
    return true;
  };
  return {
    async insertMany(orders) {
      const positions = new Map<string, Set<number>>();
      for (const row of w.read("paymentOrders").values()) {
        const taken = positions.get(row.value.paymentId) ?? new Set<number>();
        taken.add(row.position);
        positions.set(row.value.paymentId, taken);
      }
      for (const [position, order] of orders.entries()) {
        if (w.read("paymentOrders").has(order.id))
          throw violation("payment_orders(id)", `order ${order.id} exists`);
        if (!w.read("payments").has(order.paymentId))
          throw violation("payment_orders.payment_id", `payment ${order.paymentId} does not exist`);
        if (positions.get(order.paymentId)?.has(position))
          throw violation(
            "payment_orders(payment_id, position)",
            `payment ${order.paymentId} has its orders`,
          );
        const row: OrderRow = { value: storedOrder(order), seq: seq.next(), position };
        w.write("paymentOrders").set(order.id, row);
      }
    },
    async get(id) {
      const row = w.read("paymentOrders").get(id);
      return row ? clone(row.value) : null;
    },
    async listByPayment(paymentId) {
      return [...w.read("paymentOrders").values()]
        .filter((r) => r.value.paymentId === paymentId)
        .sort((a, b) => a.position - b.position)
        .map((r) => clone(r.value));
    },
    async listBySeller({ sellerId, statuses, limit, beforeId }) {
      let anchor: PaymentOrder | undefined;
      if (beforeId !== undefined) {
        anchor = w.read("paymentOrders").get(beforeId)?.value;
        if (!anchor) return [];
      }
      return [...w.read("paymentOrders").values()]
        .map((r) => r.value)
        .filter(
          (o) =>
            o.sellerId === sellerId &&
            (statuses === undefined || statuses.includes(o.status)) &&
            (anchor === undefined || after(o, anchor)),
        )
        .sort(newestFirst)
        .slice(0, limit)
        .map(clone);
    },
    async update(next) {
      return update(next);
    },
    async listDueForRelease({ now, limit, startingAfter }) {
      const key = (o: PaymentOrder) => [o.availableAt!.getTime(), o.id] as const;
      const before = (a: readonly [number, string], b: readonly [number, string]) =>
        a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
      const anchor = startingAfter
        ? ([startingAfter.availableAt.getTime(), startingAfter.id] as const)
        : undefined;
      return [...w.read("paymentOrders").values()]
        .map((r) => r.value)
        .filter(
          (o) =>
            o.status === "fulfilled" &&
            o.releasedAt === undefined &&
            o.availableAt !== undefined &&
            o.availableAt.getTime() <= now.getTime() &&
            (anchor === undefined || before(anchor, key(o))),
        )
        .sort((a, b) => (before(key(a), key(b)) ? -1 : before(key(b), key(a)) ? 1 : 0))
        .slice(0, limit)
        .map(clone);
    },
    async listHeldBySeller({ sellerId, limit }) {
      const time = (o: PaymentOrder) => o.availableAt?.getTime() ?? Number.POSITIVE_INFINITY;
      return [...w.read("paymentOrders").values()]
        .map((r) => r.value)
        .filter((o) => o.sellerId === sellerId && o.status === "fulfilled" && o.releasedAt === undefined)
        .sort((a, b) => time(a) - time(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .slice(0, limit)
        .map(clone);
    },
    async updateMany(next) {
      for (const order of next) if (!update(order)) return false;
      return true;
    },
  };
}
