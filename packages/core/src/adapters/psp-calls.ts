import { PspError } from "../runtime/psp-error.js";

/**
 * Socket errors raised before a request could be sent (no connection was made): the only
 * connection errors that prove the PSP saw nothing. A reset, a broken pipe or a timeout can come
 * after the PSP received the request.
 */
const NOT_SENT: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
]);

/**
 * A PSP call that failed in transport, without an answer: retryable when the socket error says
 * the request was never sent (`connection_error`), else indeterminate (`connection_lost`: the
 * PSP may have acted; ask it before sending again).
 */
export function transportFailure(
  message: string,
  socketCode: string | undefined,
  options: { readonly cause?: unknown; readonly param?: string } = {},
): PspError {
  return socketCode !== undefined && NOT_SENT.has(socketCode)
    ? new PspError("PSP_UNAVAILABLE", "retryable", message, { ...options, pspCode: "connection_error" })
    : new PspError("PSP_TIMEOUT", "indeterminate", message, { ...options, pspCode: "connection_lost" });
}

/** Runs one PSP call and turns its failure into the {@link PspError} `classify` makes of it. */
export async function callPsp<T>(
  context: string,
  run: () => Promise<T>,
  classify: (error: unknown, context: string) => PspError,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw classify(error, context);
  }
}

/** A request the adapter refuses before calling its PSP (fatal, nothing sent). */
export function rejectedRequest(message: string, param: string, pspCode = "parameter_invalid"): PspError {
  return new PspError("PSP_REQUEST_REJECTED", "fatal", message, { pspCode, param });
}
