// What the README's examples take from the host application around them: its store and payment
// system from the examples before, an Express app and request, an email sender, and the values a
// route handler would have at hand. scripts/readme-snippets.mjs writes the examples next to this.
import type { JournalInput, JsonValue, Notification, PaymentSystem } from "@settlekit/core";
import type { SandboxProvider } from "@settlekit/psp-sandbox";
import type { KnexStore } from "@settlekit/store-knex";
import type { Express as ExpressApp, Request } from "express";

declare global {
  /** The session a host's auth middleware put on the request. */
  namespace Express {
    interface Request {
      session?: { buyerId?: string; sellerId?: string; role?: string };
    }
  }
  const store: KnexStore;
  const system: PaymentSystem;
  const sandbox: SandboxProvider;
  const pspReference: string;
  const app: ExpressApp;
  const req: Request;
  const journal: JournalInput;
  const aggregateId: string;
  const payload: JsonValue;
  const paymentId: string;
  const rawBody: Buffer;
  const headers: Record<string, string>;
  const id: string;
  const buyerId: string;
  const sellerId: string;
  const paymentOrderId: string;
  const idempotencyKey: string;
  function sendEmail(notification: Notification): Promise<void>;
  function addDays(date: Date, days: number): Date;
  function checkPricesAgainstCart(req: Request, payment: unknown): void;
  /** The host's session or token check, outside Express (the Fetch handler's hooks). */
  function sessionOf(headers: Headers): { buyerId?: string; sellerId?: string; role?: string } | null;
}
