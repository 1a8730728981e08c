import { ErrorCodes, SettlekitError } from "../errors.js";
import type { IdempotencyRecord, StoredResponse } from "../ports/idempotency.js";
import { FINISHED, STARTED } from "../ports/idempotency.js";
import type { JsonValue } from "../ports/json.js";
import type { StoreTx } from "../ports/store.js";

export { STARTED } from "../ports/idempotency.js";

export interface BeginRequestInput {
  /** Who the key belongs to (buyer or API client): keys of different scopes never collide. */
  readonly scope: string;
  readonly key: string;
  readonly requestHash: string;
  /** Unique id of this execution; holds the lock. */
  readonly owner: string;
  readonly now: Date;
  /**
   * The lease this execution takes on the key: a recovery worker may take the key over once it
   * ran out. A holder working longer renews it (`holdLease`: `update` with the owner's token).
   */
  readonly lockMs: number;
  /** How long the key is remembered (Stripe: 24 h). */
  readonly ttlMs: number;
  readonly initialState?: JsonValue;
  /**
   * Recovery point a NEW key starts at (default `started`). A flow whose first transaction also
   * creates its records can start at its first real point and save an update.
   */
  readonly initialRecoveryPoint?: string;
}

export type BeginRequestResult =
  /** First time this key is seen (or a stalled run was taken over): run the flow from `record.recoveryPoint`. */
  | { readonly kind: "execute"; readonly record: IdempotencyRecord; readonly created: boolean }
  /** The request already finished: return this response, do nothing else. */
  | { readonly kind: "replay"; readonly response: StoredResponse };

/**
 * Stripe/IETF idempotency semantics, in one transaction:
 * same key + same request → replay the stored response; same key + different request →
 * IDEMPOTENCY_KEY_REUSED; same key while another execution holds a live lock →
 * IDEMPOTENCY_KEY_IN_USE; a stalled execution (lock expired) is taken over and resumed from its
 * recovery point.
 */
export async function beginIdempotentRequest(
  tx: StoreTx,
  input: BeginRequestInput,
): Promise<BeginRequestResult> {
  const lockedUntil = new Date(input.now.getTime() + input.lockMs);
  const { record, created } = await tx.idempotencyKeys.insertOrGet({
    scope: input.scope,
    key: input.key,
    requestHash: input.requestHash,
    recoveryPoint: input.initialRecoveryPoint ?? STARTED,
    lockedBy: input.owner,
    lockedUntil,
    response: null,
    state: input.initialState ?? null,
    createdAt: input.now,
    updatedAt: input.now,
    expiresAt: new Date(input.now.getTime() + input.ttlMs),
  });
  if (created) return { kind: "execute", record, created: true };
  if (record.requestHash !== input.requestHash) {
    throw new SettlekitError(
      ErrorCodes.IDEMPOTENCY_KEY_REUSED,
      "This idempotency key was already used with a different request.",
      { param: "idempotency_key" },
    );
  }
  if (record.recoveryPoint === FINISHED && record.response)
    return { kind: "replay", response: record.response };
  const locked = await tx.idempotencyKeys.lock({
    scope: input.scope,
    key: input.key,
    owner: input.owner,
    now: input.now,
    lockedUntil,
  });
  if (!locked) {
    throw new SettlekitError(
      ErrorCodes.IDEMPOTENCY_KEY_IN_USE,
      "A request with this idempotency key is still being processed; retry later.",
      { param: "idempotency_key" },
    );
  }
  const current = await tx.idempotencyKeys.get(input.scope, input.key);
  return { kind: "execute", record: current ?? record, created: false };
}
