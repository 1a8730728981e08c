import type { Logger } from "pino";
import type { IRateLimiterStoreOptions, RateLimiterAbstract } from "rate-limiter-flexible";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { ApiError } from "./errors.js";
import type { RateBudget, RateLimitOptions } from "./options.js";

export interface RateLimits {
  /**
   * Spends one request of `key`'s budget of `kind`; throws RATE_LIMITED (with Retry-After) when
   * none is left, RATE_LIMIT_UNAVAILABLE (503) when the shared store is down and `failOpen` is off.
   */
  consume(kind: "ip" | "buyer" | "seller", key: string): Promise<void>;
}

type Kind = "ip" | "buyer" | "seller";

/** Redis answers slower than this (default) count as Redis being down. */
const DEFAULT_REDIS_TIMEOUT_MS = 500;
/** While Redis is down, it is tried again at most this often; requests between skip it. */
const REDIS_RETRY_MS = 1_000;

function redisLimiter(options: RateLimitOptions, name: string, budget: RateBudget): RateLimiterAbstract {
  const redisOptions: IRateLimiterStoreOptions = {
    storeClient: options.redis,
    keyPrefix: `${options.keyPrefix ?? "settlekit:rl"}:${name}`,
    ...budget,
    ...(options.useRedisPackage ? { useRedisPackage: true } : {}),
  };
  return new RateLimiterRedis(redisOptions);
}

const tooMany = (rejection: RateLimiterRes): ApiError => {
  const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
  return new ApiError("RATE_LIMITED", `Too many requests; retry in ${seconds} s.`, undefined, {
    "Retry-After": String(seconds),
  });
};

class RedisTimeout extends Error {
  override readonly name = "RedisTimeout";
}

/** `promise`, or a RedisTimeout after `ms` (a client with an offline queue never answers while down). */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  promise.catch(() => undefined); // a late failure after the timeout is not unhandled
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisTimeout(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The router's rate limits: in memory per process, or shared through Redis. With Redis, a
 * failure or a slow answer is handled as `failOpen` says: on (default), each process limits on
 * its own in-memory budget meanwhile and a warning is logged once per outage (and an info line
 * when Redis answers again); off, requests are refused with 503 and `Retry-After` until it does.
 */
export function rateLimits(options: RateLimitOptions | false, logger?: Logger): RateLimits | undefined {
  if (options === false) return undefined;
  const budgets: Record<Kind, RateBudget> = {
    ip: options.perIp ?? { points: 600, duration: 60 },
    buyer: options.perBuyer ?? { points: 120, duration: 60 },
    // Sellers get the same budget as buyers, counted apart (ids of the two may coincide).
    seller: options.perBuyer ?? { points: 120, duration: 60 },
  };
  const perKind = (make: (kind: Kind) => RateLimiterAbstract): Record<Kind, RateLimiterAbstract> => ({
    ip: make("ip"),
    buyer: make("buyer"),
    seller: make("seller"),
  });
  const memory = (suffix: string) =>
    perKind((kind) => new RateLimiterMemory({ keyPrefix: `${kind}${suffix}`, ...budgets[kind] }));
  if (!options.redis) {
    const local = memory("");
    return {
      async consume(kind, key) {
        try {
          await local[kind].consume(key);
        } catch (rejection) {
          if (rejection instanceof RateLimiterRes) throw tooMany(rejection);
          throw rejection;
        }
      },
    };
  }
  const shared = perKind((kind) => redisLimiter(options, kind, budgets[kind]));
  const fallback = memory(":fallback");
  const failOpen = options.failOpen ?? true;
  const timeoutMs = options.redisTimeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
  let down = false;
  let downSince = 0;
  return {
    async consume(kind, key) {
      // While down, only one request a second waits on Redis to see whether it is back.
      const skip = down && Date.now() - downSince < REDIS_RETRY_MS;
      try {
        if (skip) throw new RedisTimeout("Redis is down (tried again shortly)");
        await within(shared[kind].consume(key), timeoutMs);
        if (down) {
          down = false;
          logger?.info("rate limits: Redis answers again; budgets are shared again");
        }
        return;
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) throw tooMany(rejection);
        if (!skip) downSince = Date.now();
        if (!down) {
          down = true;
          const message = failOpen
            ? "rate limits: Redis is unreachable; limiting per process in memory until it answers (failOpen)"
            : "rate limits: Redis is unreachable; refusing requests with 503 until it answers (failOpen: false)";
          logger?.warn({ err: rejection }, message);
        }
      }
      if (!failOpen) {
        throw new ApiError(
          "RATE_LIMIT_UNAVAILABLE",
          "Rate limiting is unavailable; retry shortly.",
          undefined,
          { "Retry-After": "1" },
        );
      }
      try {
        await fallback[kind].consume(key);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) throw tooMany(rejection);
        throw rejection;
      }
    },
  };
}
