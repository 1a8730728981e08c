import type { IRateLimiterStoreOptions, RateLimiterAbstract } from "rate-limiter-flexible";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { ApiError } from "./errors.js";
import type { RateBudget, RateLimitOptions } from "./options.js";

export interface RateLimits {
  /** Spends one request of `key`'s budget of `kind`; throws RATE_LIMITED (with Retry-After) when none is left. */
  consume(kind: "ip" | "buyer" | "seller", key: string): Promise<void>;
}

function limiter(options: RateLimitOptions, name: string, budget: RateBudget): RateLimiterAbstract {
  if (!options.redis) return new RateLimiterMemory({ keyPrefix: name, ...budget });
  const redisOptions: IRateLimiterStoreOptions = {
    storeClient: options.redis,
    keyPrefix: `${options.keyPrefix ?? "settlekit:rl"}:${name}`,
    ...budget,
    // Redis down: keep limiting, per process.
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: `${name}:insurance`, ...budget }),
    ...(options.useRedisPackage ? { useRedisPackage: true } : {}),
  };
  return new RateLimiterRedis(redisOptions);
}

export function rateLimits(options: RateLimitOptions | false): RateLimits | undefined {
  if (options === false) return undefined;
  const limiters = {
    ip: limiter(options, "ip", options.perIp ?? { points: 600, duration: 60 }),
    buyer: limiter(options, "buyer", options.perBuyer ?? { points: 120, duration: 60 }),
    // Sellers get the same budget as buyers, counted apart (ids of the two may coincide).
    seller: limiter(options, "seller", options.perBuyer ?? { points: 120, duration: 60 }),
  };
  return {
    async consume(kind, key) {
      try {
        await limiters[kind].consume(key);
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        throw new ApiError("RATE_LIMITED", `Too many requests; retry in ${seconds} s.`, undefined, {
          "Retry-After": String(seconds),
        });
      }
    },
  };
}
