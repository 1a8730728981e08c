import type { PaymentProvider, PayoutInput } from "@settlekit/core";
import { ErrorCodes, PspError } from "@settlekit/core";

/**
 * What the next payout calls do, in order: `ok` (the PSP's own answer), `retryable` (refused
 * before anything happened), `lost` (the PSP paid, the answer never arrived: indeterminate),
 * `timeout` (nothing happened, but the caller cannot know: indeterminate), `account_closed` (a
 * fatal refusal with the PSP's code), `crash` (the PSP paid, then this process died before it
 * recorded the answer: the call throws a non-PSP error).
 */
export type PayoutFault = "ok" | "retryable" | "lost" | "timeout" | "account_closed" | "crash";

export interface PayoutFaultControl {
  /** Queues faults for the next payout calls. */
  next(...faults: PayoutFault[]): void;
  /** Drops the faults no call used. */
  clear(): void;
  /** From now on, each call fails with probability `p` with a fault picked by `random`. */
  randomly(p: number, random: () => number): void;
  /** Calls made to `payout` (each one, faulted or not). */
  readonly calls: PayoutInput[];
}

/** The PSP as the system sees it, with its payout calls faulted as the test asks. */
export function payoutFaults(provider: PaymentProvider): {
  provider: PaymentProvider;
  control: PayoutFaultControl;
} {
  const queue: PayoutFault[] = [];
  const calls: PayoutInput[] = [];
  let chance: { p: number; random: () => number } | undefined;
  const pick = (): PayoutFault => {
    const queued = queue.shift();
    if (queued) return queued;
    if (chance && chance.random() < chance.p) {
      const kinds: PayoutFault[] = ["retryable", "lost", "timeout", "crash"];
      return kinds[Math.floor(chance.random() * kinds.length)]!;
    }
    return "ok";
  };
  const payout = async (input: PayoutInput) => {
    calls.push(input);
    const fault = pick();
    if (fault === "retryable")
      throw new PspError(ErrorCodes.PSP_UNAVAILABLE, "retryable", "PSP answered 503", {
        pspCode: "unavailable",
      });
    if (fault === "timeout")
      throw new PspError(ErrorCodes.PSP_TIMEOUT, "indeterminate", "PSP did not answer", {
        pspCode: "timeout",
      });
    if (fault === "account_closed")
      throw new PspError(ErrorCodes.PSP_REQUEST_REJECTED, "fatal", "The seller's bank account is closed", {
        pspCode: "account_closed",
      });
    const result = await provider.payout!(input);
    if (fault === "lost")
      throw new PspError(ErrorCodes.PSP_TIMEOUT, "indeterminate", "PSP answer lost", { pspCode: "timeout" });
    if (fault === "crash") throw new Error("process crashed after the PSP paid");
    return result;
  };
  const wrapped = new Proxy(provider, {
    get(target, key, receiver) {
      if (key === "payout") return payout;
      return Reflect.get(target, key, receiver);
    },
  });
  return {
    provider: wrapped,
    control: {
      next: (...faults) => queue.push(...faults),
      clear: () => {
        queue.length = 0;
      },
      randomly: (p, random) => {
        chance = { p, random };
      },
      calls,
    },
  };
}
