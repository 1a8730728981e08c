import type { PaymentProvider, ReversePayoutInput } from "@settlekit/core";
import { ErrorCodes, PspError } from "@settlekit/core";

/**
 * What the next `reversePayout` calls do, in order: `ok` (the PSP's own answer), `retryable`
 * (refused before anything happened), `lost` (the PSP reversed, the answer never arrived:
 * indeterminate), `timeout` (nothing reversed, but the caller cannot know: indeterminate),
 * `refused` (a fatal refusal, nothing reversed).
 */
export type ReversalFault = "ok" | "retryable" | "lost" | "timeout" | "refused";

/** The PSP as the system sees it, its payout reversals faulted as the test asks. */
export function reversalFaults(provider: PaymentProvider): {
  provider: PaymentProvider;
  next(...faults: ReversalFault[]): void;
  /** Every `reversePayout` call (faulted or not). */
  readonly calls: ReversePayoutInput[];
} {
  const queue: ReversalFault[] = [];
  const calls: ReversePayoutInput[] = [];
  const reversePayout = async (input: ReversePayoutInput) => {
    calls.push(input);
    const fault = queue.shift() ?? "ok";
    if (fault === "retryable")
      throw new PspError(ErrorCodes.PSP_UNAVAILABLE, "retryable", "PSP answered 503", {
        pspCode: "unavailable",
      });
    if (fault === "timeout")
      throw new PspError(ErrorCodes.PSP_TIMEOUT, "indeterminate", "PSP did not answer", {
        pspCode: "timeout",
      });
    if (fault === "refused")
      throw new PspError(
        ErrorCodes.PSP_REQUEST_REJECTED,
        "fatal",
        "The connected account cannot be debited",
        {
          pspCode: "insufficient_funds",
        },
      );
    const result = await provider.reversePayout!(input);
    if (fault === "lost")
      throw new PspError(ErrorCodes.PSP_TIMEOUT, "indeterminate", "PSP answer lost", { pspCode: "timeout" });
    return result;
  };
  const wrapped = new Proxy(provider, {
    get(target, key, receiver) {
      if (key === "reversePayout") return reversePayout;
      return Reflect.get(target, key, receiver);
    },
  });
  return { provider: wrapped, next: (...faults) => queue.push(...faults), calls };
}
