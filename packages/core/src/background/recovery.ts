import type { Deps } from "../deps.js";
import { PAYMENT_CREATED, resumePaymentCreation } from "../services/payments/create-payment.js";
import { RETRY_STARTED, resumeRetry } from "../services/payments/retry-payment.js";
import { REFUND_CREATED, resumeRefund } from "../services/refunds/refunds.js";

/**
 * The recovery worker: idempotency keys whose execution stopped mid-way (process crash: its
 * lease, `idempotencyLockMs`, was no longer renewed and expired) are taken over and driven to the end from their recovery point, so every payment
 * reaches a definite state and the client's retry of the same key gets a real answer.
 */
export async function recoverStalledRequests(deps: Deps, limit = 50): Promise<number> {
  const now = deps.clock.now();
  const stalled = await deps.store.transaction((tx) => tx.idempotencyKeys.listStalled({ now, limit }));
  let recovered = 0;
  for (const record of stalled) {
    const owner = deps.ids.newId();
    const taken = await deps.store.transaction((tx) =>
      tx.idempotencyKeys.lock({
        scope: record.scope,
        key: record.key,
        owner,
        now,
        lockedUntil: new Date(now.getTime() + deps.leases.lockMs),
      }),
    );
    if (!taken) continue; // someone else has it
    if (record.recoveryPoint === PAYMENT_CREATED) {
      await resumePaymentCreation(deps, { ...record, lockedBy: owner }, owner);
      recovered++;
    } else if (record.recoveryPoint === REFUND_CREATED) {
      // finishRefund renews the lease while the PSP refunds, as for a live request.
      await resumeRefund(deps, record, owner);
      recovered++;
    } else if (record.recoveryPoint === RETRY_STARTED) {
      // A "try again" whose holder died (or whose PSP call failed): the retry is run to its answer.
      await resumeRetry(deps, record, owner);
      recovered++;
    }
  }
  return recovered;
}
