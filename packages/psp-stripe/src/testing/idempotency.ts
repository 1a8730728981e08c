import type { Clock } from "@settlekit/core";
import { FakeStripeError } from "./errors.js";

/** Stripe prunes keys once they are at least 24 hours old; the fake does it at exactly 24 hours. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 3_600_000;

/** An answer as the idempotency layer keeps it. */
export interface StoredAnswer {
  readonly status: number;
  readonly body: string;
}

interface KeyEntry {
  readonly fingerprint: string;
  readonly createdAt: number;
  inFlight: boolean;
  answer?: StoredAnswer;
}

/** What to do with a keyed request: run it (then {@link FakeIdempotency.finish}), or answer at once. */
export type IdempotencyDecision =
  | { readonly run: true }
  | { readonly run: false; readonly answer: StoredAnswer; readonly replayed: boolean };

const idempotencyError = (status: number, code: string | undefined, message: string) =>
  new FakeStripeError(status, { type: "idempotency_error", ...(code ? { code } : {}), message });

/**
 * Stripe's idempotency layer for API v1 (https://docs.stripe.com/api/idempotent_requests), by
 * the fake's clock:
 * - the first answer under a key is saved once the endpoint began executing — successes, card
 *   errors and 5xx alike — and replayed (`Idempotent-Replayed: true`) for the same parameters;
 * - a request that fails validation (`invalid_request_error`) saves nothing: the same key with
 *   fixed parameters then runs;
 * - the same key with other parameters → 400 `idempotency_error`; while the first request is
 *   still running → 409 `idempotency_key_in_use`;
 * - keys are pruned 24 hours after their first use; a reuse after that is a new request.
 */
export class FakeIdempotency {
  private readonly keys = new Map<string, KeyEntry>();

  constructor(private readonly clock: Clock) {}

  /** Looks `key` up for a request with this `fingerprint` (method, path and body). */
  begin(key: string, fingerprint: string): IdempotencyDecision {
    const now = this.clock.now().getTime();
    let known = this.keys.get(key);
    if (known && now - known.createdAt >= IDEMPOTENCY_KEY_TTL_MS) {
      this.keys.delete(key);
      known = undefined;
    }
    const refuse = (e: FakeStripeError) => ({
      run: false as const,
      replayed: false,
      answer: { status: e.status, body: JSON.stringify({ error: e.body }) },
    });
    if (known?.inFlight) {
      return refuse(
        idempotencyError(
          409,
          "idempotency_key_in_use",
          "There is currently another in-progress request using this Idempotent Key.",
        ),
      );
    }
    if (known && known.fingerprint !== fingerprint) {
      return refuse(
        idempotencyError(
          400,
          undefined,
          `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
        ),
      );
    }
    if (known?.answer) return { run: false, replayed: true, answer: known.answer };
    this.keys.set(key, { fingerprint, createdAt: now, inFlight: true });
    return { run: true };
  }

  /**
   * Records the answer of a request `begin` let run. `validationFailed`: the endpoint refused
   * the parameters before executing, so nothing is saved and the key is free again.
   */
  finish(key: string, answer: StoredAnswer, validationFailed: boolean): void {
    const entry = this.keys.get(key);
    if (!entry) return;
    if (validationFailed) {
      this.keys.delete(key);
      return;
    }
    entry.inFlight = false;
    entry.answer = answer;
  }
}
