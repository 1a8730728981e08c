import type { PaymentProvider } from "@settlekit/core";
import { ErrorCodes, PspError } from "@settlekit/core";
import type { SandboxProvider } from "@settlekit/psp-sandbox";

/** The PSP calls a fault can hit. */
export type PspOperation =
  | "createHostedPayment"
  | "refund"
  | "cancelHostedPayment"
  | "retrievePayment"
  | "retrieveRefund"
  | "payout"
  | "retrievePayout"
  | "reversePayout"
  | "retrievePayoutReversal";

/**
 * How one call fails: `timeout-before` (nothing happened, the answer is a timeout),
 * `timeout-after` (it happened, the answer was lost), `5xx-before` (a 503, nothing happened),
 * `5xx-after` (it happened, then a 502 on the way back: retryable for payments and refunds,
 * indeterminate for payouts, as the port asks of a PSP whose 5xx can come after it acted).
 */
export type CallFault = "timeout-before" | "timeout-after" | "5xx-before" | "5xx-after";

/** The PSP calls with a side effect at the PSP (money moved or a page closed). */
export type SideEffectOperation = "refund" | "payout" | "reversePayout" | "cancelHostedPayment";

/**
 * Sees every side-effect call on its way to the sandbox (after the call faults that stop it
 * before the PSP): it may hold it, inspect it, and must make it with `send` (possibly changed).
 */
export type SideEffectGuard = <I, T>(
  operation: SideEffectOperation,
  input: I,
  send: (input: I) => Promise<T>,
) => Promise<T>;

export interface SimProvider extends PaymentProvider {
  /** The next call of `operation` fails this way (faults add up, oldest first). */
  failNext(operation: PspOperation, fault: CallFault): void;
  /** Clears every pending call fault. */
  clearFaults(): void;
}

/**
 * The sandbox as settlekit sees it in the simulation: the sandbox itself, with call faults in
 * front of it. `canClosePages: false` plays a PSP whose hosted pages cannot be closed and outlive
 * the payment (no `cancelHostedPayment`, no page expiry sent): an old page paid after a retry or
 * a capture after the local expiry can then happen, and must be refunded.
 */
export function simProvider(
  sandbox: SandboxProvider,
  canClosePages: boolean,
  guard: SideEffectGuard = (_operation, input, send) => send(input),
): SimProvider {
  const faults: { operation: PspOperation; fault: CallFault }[] = [];
  const effect =
    <I, T>(operation: SideEffectOperation, send: (input: I) => Promise<T>) =>
    (input: I) =>
      run(operation, () => guard(operation, input, send));
  const run = async <T>(operation: PspOperation, call: () => Promise<T>): Promise<T> => {
    const index = faults.findIndex((f) => f.operation === operation);
    const fault = index < 0 ? undefined : faults.splice(index, 1)[0]!.fault;
    if (fault === "timeout-before") throw timeout(operation);
    if (fault === "5xx-before") throw unavailable(operation);
    const result = await call();
    if (fault === "timeout-after") throw timeout(operation);
    // The port's contract: a 5xx that can come after the PSP acted is reported as indeterminate
    // (as the Stripe adapter does). The payout runner relies on it: a retryable failure means
    // nothing was paid, so a payout dead-lettered after retryable failures is released. (The
    // payment and refund paths retry under the same key either way, and keep the old fault.)
    if (fault === "5xx-after")
      throw PAYOUT_OPERATIONS.has(operation) ? lostAfter502(operation) : unavailable(operation);
    return result;
  };
  const provider: SimProvider = {
    id: sandbox.id,
    capabilities: canClosePages
      ? sandbox.capabilities
      : { ...sandbox.capabilities, cancelHostedPayments: false },
    createHostedPayment: (input) =>
      run("createHostedPayment", () => {
        if (canClosePages) return sandbox.createHostedPayment(input);
        const { expiresAt: _outlived, ...rest } = input;
        return sandbox.createHostedPayment(rest);
      }),
    retrievePayment: (input) => run("retrievePayment", () => sandbox.retrievePayment(input)),
    parseWebhook: (input) => sandbox.parseWebhook(input),
    refund: effect("refund", (input: Parameters<SandboxProvider["refund"]>[0]) => sandbox.refund(input)),
    retrieveRefund: (input) => run("retrieveRefund", () => sandbox.retrieveRefund(input)),
    // Payouts: the sandbox pays sellers at once; a timeout or 5xx after the call means it paid. A
    // refusal is kept under its idempotency key by the sandbox itself, as Stripe keeps its answers.
    payout: effect("payout", (input: Parameters<SandboxProvider["payout"]>[0]) => sandbox.payout(input)),
    retrievePayout: (input) => run("retrievePayout", () => sandbox.retrievePayout(input)),
    // Clawbacks by reversal (`clawbacks: "reverse_payouts"`): the same faults as paying.
    reversePayout: effect("reversePayout", (input: Parameters<SandboxProvider["reversePayout"]>[0]) =>
      sandbox.reversePayout(input),
    ),
    retrievePayoutReversal: (input) =>
      run("retrievePayoutReversal", () => sandbox.retrievePayoutReversal(input)),
    // Reconciliation reads the sandbox's own settlement records.
    readSettlement: (query) => sandbox.readSettlement(query),
    ...(canClosePages
      ? {
          cancelHostedPayment: effect(
            "cancelHostedPayment",
            (input: Parameters<SandboxProvider["cancelHostedPayment"]>[0]) =>
              sandbox.cancelHostedPayment(input),
          ),
        }
      : {}),
    failNext(operation, fault) {
      faults.push({ operation, fault });
    },
    clearFaults() {
      faults.length = 0;
    },
  };
  return provider;
}

const PAYOUT_OPERATIONS: ReadonlySet<PspOperation> = new Set([
  "payout",
  "retrievePayout",
  "reversePayout",
  "retrievePayoutReversal",
]);
const lostAfter502 = (operation: string) =>
  new PspError(
    ErrorCodes.PSP_TIMEOUT,
    "indeterminate",
    `simulated: ${operation} answered 502 after it acted`,
  );
const timeout = (operation: string) =>
  new PspError(ErrorCodes.PSP_TIMEOUT, "indeterminate", `simulated: ${operation} timed out`);
const unavailable = (operation: string) =>
  new PspError(ErrorCodes.PSP_UNAVAILABLE, "retryable", `simulated: ${operation} answered 503`);
