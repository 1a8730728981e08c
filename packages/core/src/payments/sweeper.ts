import { checkoutMachine } from "../domain/checkout-status.js";
import { isSettlekitError } from "../errors.js";
import type { Deps } from "./deps.js";
import { applyPaymentStatus, recordCheckoutChange } from "./payment-outcome.js";

export interface SweepResult {
  readonly polled: number;
  readonly changed: number;
  readonly expired: number;
}

/**
 * The pending sweeper: checkouts stuck in `requires_payment` or `processing` for longer than
 * `sweepAfterMs` are polled at their PSP (`retrievePayment`) and the answer applied like a
 * webhook — this is what recovers a dropped webhook. Unpaid checkouts past `expiresAt` expire.
 */
export async function sweepPendingCheckouts(deps: Deps, limit = 100): Promise<SweepResult> {
  const now = deps.clock.now();
  const stale = await deps.store.transaction((tx) =>
    tx.checkouts.listStale({
      statuses: ["requires_payment", "processing"],
      updatedBefore: new Date(now.getTime() - (deps.options.sweepAfterMs ?? 900_000)),
      limit,
    }),
  );
  const result = { polled: 0, changed: 0, expired: 0 };
  for (const checkout of stale) {
    if (!checkout.pspReference) continue;
    let status = checkout.status as Parameters<typeof applyPaymentStatus>[3];
    let details = {};
    try {
      const remote = await deps
        .provider(checkout.pspId)
        .retrievePayment({ pspReference: checkout.pspReference });
      result.polled++;
      status = remote.status;
      details = { ...(remote.failureCode ? { failureCode: remote.failureCode } : {}) };
    } catch {
      continue; // the PSP is unreachable now: the next sweep tries again
    }
    const outcome = await deps.store.transaction(async (tx) => {
      const current = await tx.checkouts.get(checkout.id, { forUpdate: true });
      if (!current || current.pspReference !== checkout.pspReference) return "skip";
      try {
        const applied = await applyPaymentStatus(deps, tx, current, status, details);
        if (applied.changed) return "changed";
      } catch (error) {
        if (!isSettlekitError(error, "INVALID_STATE_TRANSITION")) throw error;
        return "skip";
      }
      // Still unpaid at the PSP and past its deadline: abandoned.
      if (current.status === "requires_payment" && current.expiresAt && current.expiresAt <= now) {
        await recordCheckoutChange(deps, tx, {
          ...current,
          status: checkoutMachine.transition(current.status, "expire"),
          failureReason: "expired",
          version: current.version + 1,
          updatedAt: deps.clock.now(),
        });
        return "expired";
      }
      return "skip";
    });
    if (outcome === "changed") result.changed++;
    if (outcome === "expired") result.expired++;
  }
  return result;
}
