/**
 * Time source. Services never call `new Date()` directly so tests can move time
 * (lease expiry, job backoff, idempotency-key expiry) without sleeping.
 */
export interface Clock {
  /** The current instant. Must be monotonic enough for leases: never jumps backwards by more than a lease. */
  now(): Date;
}
