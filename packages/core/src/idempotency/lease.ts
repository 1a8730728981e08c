import { ErrorCodes, SettlekitError } from "../errors.js";
import type { Clock } from "../ports/clock.js";
import type { Store } from "../ports/store.js";

/** The key whose lock an execution holds, and its token (`owner`). */
export interface LeasedKey {
  readonly scope: string;
  readonly key: string;
  readonly owner: string;
}

export interface LeaseOptions {
  /** How long each renewal extends the lease, in clock time. */
  readonly leaseMs: number;
  /** Real time between renewals (default: a third of `leaseMs`, so two can fail before it ends). */
  readonly renewEveryMs?: number;
}

/** A running heartbeat on an idempotency key's lease. */
export interface KeyLease {
  /** True once a renewal found the key no longer held by `owner` (taken over or finished). */
  readonly lost: boolean;
  /** Stops renewing; resolves once a renewal in flight has settled. */
  stop(): Promise<void>;
}

/**
 * Keeps an idempotency key's lease alive while its holder works outside a transaction (the PSP
 * call): every `renewEveryMs` the lease is extended to `now + leaseMs` through the store — a
 * compare-and-set on the lock token, so it only works while `owner` still holds the key. The
 * lease can therefore be short (a dead process's key is free within `leaseMs`) while a live
 * holder keeps it for as long as it works. A renewal that finds the key taken over marks the
 * lease `lost` and stops; one that fails (store unreachable) is retried at the next beat.
 */
export function holdLease(store: Store, clock: Clock, leased: LeasedKey, options: LeaseOptions): KeyLease {
  let lost = false;
  let stopped = false;
  let inFlight: Promise<void> | undefined;
  const renew = async () => {
    try {
      const now = clock.now();
      const held = await store.transaction((tx) =>
        tx.idempotencyKeys.update({
          ...leased,
          now,
          lockedUntil: new Date(now.getTime() + options.leaseMs),
        }),
      );
      if (!held && !stopped) {
        lost = true;
        clearInterval(timer);
      }
    } catch {
      // The store is unreachable now: the next beat tries again; phase 3's compare-and-set on the
      // token is what finally decides who holds the key.
    }
  };
  const timer = setInterval(
    () => {
      if (!inFlight) inFlight = renew().finally(() => (inFlight = undefined));
    },
    Math.max(1, options.renewEveryMs ?? Math.floor(options.leaseMs / 3)),
  );
  timer.unref?.();
  return {
    get lost() {
      return lost;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await inFlight;
    },
  };
}

/**
 * Runs `work` while holding the key's lease (see {@link holdLease}); the heartbeat stops when it
 * ends, whatever the outcome. Throws `LEASE_LOST` after `work` when the key was taken over
 * meanwhile: the new holder's result is the one that counts, so the caller must not write its own.
 */
export async function withLease<T>(
  store: Store,
  clock: Clock,
  leased: LeasedKey,
  options: LeaseOptions,
  work: () => Promise<T>,
): Promise<T> {
  const lease = holdLease(store, clock, leased, options);
  let result: T;
  try {
    result = await work();
  } finally {
    await lease.stop();
  }
  if (lease.lost) throw leaseLost();
  return result;
}

export const leaseLost = (): SettlekitError =>
  new SettlekitError(ErrorCodes.LEASE_LOST, "The request took too long and was taken over; retry it.", {
    param: "idempotency_key",
  });
