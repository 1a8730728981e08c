import type { Deps } from "../deps.js";
import { ErrorCodes } from "../errors.js";
import { PspError } from "../runtime/psp-error.js";

/**
 * Bounds a PSP call by `pspTimeoutMs` (real time), so a PSP that never answers cannot hold an
 * idempotency key, a request or a worker pass forever. Past the bound the call is a
 * `PSP_TIMEOUT` PspError of kind `indeterminate` — the PSP may still act on it — so it must be
 * settled by retrying under the same PSP idempotency key (or by polling), never by a new request.
 * The abandoned call keeps running; its late answer or failure is ignored.
 */
export async function withPspTimeout<T>(deps: Deps, pspId: string, call: () => Promise<T>): Promise<T> {
  const ms = deps.leases.pspTimeoutMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = call();
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new PspError(
            ErrorCodes.PSP_TIMEOUT,
            "indeterminate",
            `PSP ${pspId} did not answer within ${ms} ms; the request may have taken effect.`,
            { pspCode: "timeout" },
          ),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([pending, timeout]);
  } finally {
    clearTimeout(timer);
    pending.catch(() => undefined); // a late failure of the abandoned call is not unhandled
  }
}
