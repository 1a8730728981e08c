import type { Deps } from "../../deps.js";
import { isSettlekitError } from "../../errors.js";
import type { JsonObject } from "../../ports/json.js";
import type { PspEvent, WebhookInput } from "../../ports/psp.js";
import type { StoreTx } from "../../ports/store.js";
import { applyDisputeEvent, disputeEventFromJson } from "../disputes/disputes.js";
import { applyAttemptReport } from "../payments/attempts.js";
import { applyPayoutEvent } from "../payouts/payouts.js";
import { applyRefundEvent } from "../refunds/external-refunds.js";

export interface WebhookResult {
  readonly received: number;
  /** Events seen before (same PSP event id): acknowledged, nothing changed. */
  readonly duplicates: number;
  /** Events for a payment settlekit does not know (yet): stored for a retry, not lost. */
  readonly deferred: number;
}

/** Money as decimal strings: the stored event must be JSON. */
function eventJson(event: PspEvent): JsonObject {
  return JSON.parse(
    JSON.stringify(event, (_k, v) =>
      typeof v === "bigint" ? v.toString() : v instanceof Date ? v.toISOString() : v,
    ),
  ) as JsonObject;
}

function eventFromJson(json: JsonObject): PspEvent {
  const raw = json as Record<string, unknown>;
  if (raw.kind === "dispute") return disputeEventFromJson(raw);
  return {
    ...raw,
    occurredAt: new Date(String(raw.occurredAt)),
    ...(raw.amount !== undefined ? { amount: BigInt(String(raw.amount)) } : {}),
    ...(raw.amountReversed !== undefined ? { amountReversed: BigInt(String(raw.amountReversed)) } : {}),
  } as PspEvent;
}

/** What an event did: applied (maybe flagged with a discrepancy) or deferred (unknown target). */
type Effect = { readonly outcome: "applied" | "deferred"; readonly error?: string };

async function applyEvent(deps: Deps, tx: StoreTx, pspId: string, event: PspEvent): Promise<Effect> {
  // Settlekit's refunds, and refunds made at the PSP (its dashboard): see external-refunds.ts.
  if (event.kind === "refund") return applyRefundEvent(deps, tx, pspId, event);
  // Disputes (chargebacks): found by the payment's PSP reference, deferred while it is unknown.
  if (event.kind === "dispute") return applyDisputeEvent(deps, tx, pspId, event);
  // Payouts to sellers: paid, failed (money released), reversed (money back to available).
  if (event.kind === "payout") return applyPayoutEvent(deps, tx, pspId, event);
  if (event.kind !== "payment") return { outcome: "applied" };
  const payment = await tx.payments.findByPspReference(pspId, event.pspReference, { forUpdate: true });
  if (!payment) return { outcome: "deferred", error: "unknown payment" };
  try {
    // Whichever attempt it is about: every attempt's reference finds its payment.
    await applyAttemptReport(deps, tx, payment, event.pspReference, event.status, event);
    return { outcome: "applied" };
  } catch (error) {
    // An impossible report (success after expiry…) is a discrepancy for an operator, not a
    // reason for the PSP to resend forever: keep it, flagged, and acknowledge.
    if (!isSettlekitError(error, "INVALID_STATE_TRANSITION")) throw error;
    return { outcome: "applied", error: error.message };
  }
}

/**
 * One event's effect in one transaction: the event id first (a duplicate stops here), then the
 * state change with its ledger journal, outbox event and notification job, then the event's
 * own record (pending for a retry when its payment or refund is not known yet).
 */
async function processEvent(
  deps: Deps,
  tx: StoreTx,
  pspId: string,
  event: PspEvent,
  firstDelivery: boolean,
): Promise<"applied" | "duplicate" | "deferred"> {
  const now = deps.clock.now();
  if (firstDelivery) {
    const inserted = await tx.webhookEvents.insert({
      pspId,
      eventId: event.eventId,
      payload: eventJson(event),
      status: "processed",
      attempts: 1,
      lastError: null,
      receivedAt: now,
      processedAt: now,
    });
    if (!inserted) return "duplicate";
  }
  const effect = await applyEvent(deps, tx, pspId, event);
  // A first delivery applied cleanly is already recorded as processed by the insert.
  if (!firstDelivery || effect.outcome === "deferred" || effect.error) {
    await tx.webhookEvents.update({
      pspId,
      eventId: event.eventId,
      status: effect.outcome === "deferred" ? "pending" : "processed",
      now,
      error: effect.error ?? null,
    });
  }
  return effect.outcome;
}

/**
 * Handles a PSP webhook: the provider verifies the signature (a bad one throws
 * WEBHOOK_SIGNATURE_INVALID before anything is stored), then each event is applied in its own
 * transaction. Duplicates, late and reordered events change nothing.
 */
export async function handleWebhook(deps: Deps, pspId: string, input: WebhookInput): Promise<WebhookResult> {
  const events = await deps.provider(pspId).parseWebhook({ ...input, now: input.now ?? deps.clock.now() });
  const result = { received: events.length, duplicates: 0, deferred: 0 };
  for (const event of events) {
    const outcome = await deps.store.transaction((tx) => processEvent(deps, tx, pspId, event, true));
    if (outcome === "duplicate") result.duplicates++;
    if (outcome === "deferred") result.deferred++;
  }
  return result;
}

/**
 * Retries deferred events (their payment may be known now). An event whose payment is still
 * unknown after `deferredWebhookTtlMs` (default 1 h), tried once more, is closed with an error for
 * an operator to look at — a payment settlekit never registered (made in the PSP's dashboard) — so
 * pending events cannot pile up. An event about a known payment that waits for settlekit's own
 * refund answer is kept until it applies. (An attempt replaced by a retry is known: its reports reach its payment.) Returns how many were applied.
 */
export async function retryDeferredWebhooks(deps: Deps, limit = 100): Promise<number> {
  const pending = await deps.store.transaction((tx) => tx.webhookEvents.listPending({ limit }));
  const giveUpBefore = deps.clock.now().getTime() - deps.settings.deferredWebhookTtlMs;
  let applied = 0;
  for (const stored of pending) {
    // Tried once more before giving up: an event whose wait is over (its payment is known now,
    // the refund it waited for has its answer) is applied however late the worker gets to it.
    const event = eventFromJson(stored.payload as JsonObject);
    const outcome = await deps.store.transaction((tx) => processEvent(deps, tx, stored.pspId, event, false));
    if (outcome === "applied") applied++;
    if (outcome !== "deferred" || stored.receivedAt.getTime() > giveUpBefore) continue;
    await deps.store.transaction(async (tx) => {
      // An event about a payment settlekit knows waits for settlekit itself (a refund's PSP
      // answer): it is kept until that comes, never dropped. Only an unknown target is given up.
      if (
        "pspReference" in event &&
        (await tx.payments.findByPspReference(stored.pspId, event.pspReference))
      ) {
        return;
      }
      await tx.webhookEvents.update({
        pspId: stored.pspId,
        eventId: stored.eventId,
        status: "processed",
        now: deps.clock.now(),
        error: `gave up: ${stored.lastError ?? "unknown payment"}`,
      });
    });
  }
  return applied;
}
