/** Exponential backoff with full jitter (AWS architecture blog's "full jitter" variant). */
export interface BackoffPolicy {
  /** Delay scale for the first retry, ms (default 1 000). */
  readonly baseMs?: number;
  /** Upper bound of any delay, ms (default 1 hour). */
  readonly maxMs?: number;
  /** 0 = no jitter (exactly base·2^(n−1)), 1 = full jitter (uniform in [0, that]); default 1. */
  readonly jitter?: number;
}

/** The delays a policy leaves out: 1 s doubling to 1 h, full jitter. */
export const DEFAULT_BACKOFF: Required<BackoffPolicy> = { baseMs: 1_000, maxMs: 3_600_000, jitter: 1 };

/**
 * Delay before retry number `attempt` (1 = first retry): `min(maxMs, baseMs·2^(attempt−1))`,
 * reduced by up to `jitter` of itself at random so a burst of failures does not retry in lockstep.
 * `random` returns values in [0, 1) and is injectable for tests.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy = {},
  random: () => number = Math.random,
): number {
  const base = policy.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const max = policy.maxMs ?? DEFAULT_BACKOFF.maxMs;
  const jitter = Math.min(1, Math.max(0, policy.jitter ?? DEFAULT_BACKOFF.jitter));
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(max, base * 2 ** exponent);
  return Math.round(ceiling * (1 - jitter * random()));
}
