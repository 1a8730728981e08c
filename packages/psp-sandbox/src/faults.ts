/** How an injected registration failure looks to the caller. */
export type RegistrationFault = "503" | "timeout";

/**
 * How an injected payout failure looks to the caller: `"503"` — nothing happens, a retryable
 * `PSP_UNAVAILABLE`; `"timeout"` — the seller IS paid (the answer was lost), an indeterminate
 * `PSP_TIMEOUT`; `"refused"` — the seller's account cannot take money, a fatal
 * `PSP_REQUEST_REJECTED` (`param` `sellerId`, `pspCode` the failure reason) and nothing is paid.
 */
export type PayoutFault = "503" | "timeout" | "refused";

/** The order in which held webhooks go out on release. */
export type ReleaseOrder = "fifo" | "reverse";

/**
 * Fault injection: the failures a real PSP produces now and then, on demand. Each "next" call
 * affects one more upcoming registration or event (calls add up); `reset()` clears them all.
 */
export interface SandboxFaults {
  /**
   * The next `n` `createHostedPayment` calls fail. `"503"`: nothing is registered and the call
   * throws a retryable `PSP_UNAVAILABLE`. `"timeout"`: the payment IS registered (the answer was
   * lost on the way back) and the call throws an indeterminate `PSP_TIMEOUT`; a retry with the
   * same idempotency key then returns that same payment.
   */
  failNextRegistrations(n: number, mode: RegistrationFault): void;
  /**
   * The next `n` `cancelHostedPayment` calls throw a retryable `PSP_UNAVAILABLE` (503) before
   * anything happens: the payment stays payable, and a retry closes it.
   */
  failNextCancels(n: number): void;
  /**
   * The next `n` `payout` calls fail as {@link PayoutFault} says (replays included, as for
   * registrations). A retry with the same idempotency key after `"timeout"` returns the payout
   * made; `retrievePayout` finds it too. `failureReason` (default `account_closed`) is the
   * refusal's `pspCode` for `"refused"`.
   */
  failNextPayouts(n: number, mode: PayoutFault, options?: { failureReason?: string }): void;
  /** The next `n` `retrievePayout` calls throw a retryable `PSP_UNAVAILABLE` (503) and read nothing. */
  failNextPayoutLookups(n: number): void;
  /**
   * A payout that was paid fails afterwards, as when the seller's bank returns it: its money comes
   * back to the platform (a positive `payout` row in the settlement file), its status becomes
   * `failed` with `failureReason` (default `account_closed`), and `payout.failed` is emitted.
   * Throws for an unknown reference or a payout that is not `paid`.
   */
  failPayoutAfterPaid(payoutReference: string, options?: { failureReason?: string }): void;
  /** The next event is delivered twice (same id, same body): receivers must dedupe by event id. */
  duplicateNextWebhook(): void;
  /** The next event is never delivered; it stays in `events()` (the host must poll to learn it). */
  dropNextWebhook(): void;
  /** The next event goes out `ms` later (by the sandbox's clock; with a manual one, on `tick()`). */
  delayNextWebhook(ms: number): void;
  /** From now on events are held back, not delivered, until `releaseWebhooks`. */
  holdWebhooks(): void;
  /** Stops holding and delivers what was held, oldest first (`fifo`, default) or newest first. */
  releaseWebhooks(options?: { order?: ReleaseOrder }): void;
  /**
   * The next `n` refunds are accepted but stay `pending`, as a bank refund does: `refund` answers
   * `pending` (the amount counts against what is left to refund) and no event goes out until
   * {@link SandboxFaults.settleHeldRefunds}.
   */
  holdNextRefunds(n: number): void;
  /**
   * Settles every held refund, oldest first: `succeeded` emits `refund.succeeded`; `failed` gives
   * the money back to the payment and emits `refund.failed`.
   */
  settleHeldRefunds(outcome: "succeeded" | "failed"): void;
  /**
   * A refund that already succeeded fails after all (a bank refund that bounced): its money
   * returns to the payment and `refund.failed` is emitted. Throws for an unknown reference or a
   * refund that has not succeeded.
   */
  failRefundAfterSuccess(refundReference: string): void;
  /**
   * The next `n` payments that succeed are disputed right away (a chargeback: `dispute.created`
   * and `dispute.funds_withdrawn` follow `payment.succeeded`), with these options; win or lose
   * them with `winDispute` / `loseDispute` (find them in `disputes()`).
   */
  disputeNextPayments(n: number, options?: { amount?: bigint; reason?: string }): void;
  /** Clears every pending fault (held events are released in order first; held refunds stay held). */
  reset(): void;
}

/** What the refund faults do to the sandbox's refunds (implemented in `refunds.ts`). */
export interface RefundFaultEffects {
  settleHeld(outcome: "succeeded" | "failed"): void;
  failAfterSuccess(refundReference: string): void;
}

/** What the payout faults do to the sandbox's payouts (implemented in `payouts.ts`). */
export interface PayoutFaultEffects {
  failAfterPaid(payoutReference: string, failureReason: string): void;
}

/** The faults' internal state, consumed by registration and by the webhook dispatcher. */
export class FaultState {
  registrationFailures: RegistrationFault[] = [];
  cancelFailures = 0;
  duplicates = 0;
  drops = 0;
  delays: number[] = [];
  holding = false;
  heldRefunds = 0;
  disputes: { amount?: bigint; reason?: string }[] = [];
  payoutFailures: { mode: PayoutFault; failureReason: string }[] = [];
  payoutLookupFailures = 0;

  /** Takes the fault for the next payout, if any. */
  takePayoutFault(): { mode: PayoutFault; failureReason: string } | undefined {
    return this.payoutFailures.shift();
  }

  /** Takes the "answer 503" fault for the next payout lookup, if any. */
  takePayoutLookupFault(): boolean {
    if (this.payoutLookupFailures === 0) return false;
    this.payoutLookupFailures--;
    return true;
  }

  /** Takes the "dispute it" fault for a payment that just succeeded, if any. */
  takeDispute(): { amount?: bigint; reason?: string } | undefined {
    return this.disputes.shift();
  }

  /** Takes the "stay pending" fault for the next refund, if any. */
  takeRefundHold(): boolean {
    if (this.heldRefunds === 0) return false;
    this.heldRefunds--;
    return true;
  }

  /** Takes the "answer 503" fault for the next cancel, if any. */
  takeCancelFault(): boolean {
    if (this.cancelFailures === 0) return false;
    this.cancelFailures--;
    return true;
  }

  /** Takes the fault for the next registration, if any. */
  takeRegistrationFault(): RegistrationFault | undefined {
    return this.registrationFailures.shift();
  }

  /** Takes the delivery faults for the next event. */
  takeEventFaults(): { drop: boolean; duplicate: boolean; delayMs: number | undefined } {
    const drop = this.drops > 0;
    if (drop) this.drops--;
    const duplicate = this.duplicates > 0;
    if (duplicate) this.duplicates--;
    return { drop, duplicate, delayMs: this.delays.shift() };
  }
}

/** The public controls over a {@link FaultState}; `release` is the dispatcher's. */
export function faultControls(
  state: FaultState,
  release: (order: ReleaseOrder) => void,
  refunds: RefundFaultEffects,
  payouts: PayoutFaultEffects,
): SandboxFaults {
  const count = (n: number): number => {
    if (!Number.isInteger(n) || n < 0) throw new RangeError("n must be a non-negative integer");
    return n;
  };
  const reason = (failureReason: string | undefined): string => {
    if (failureReason === undefined) return "account_closed";
    if (!/^[a-z0-9_]+$/.test(failureReason)) throw new RangeError("failureReason must be a snake_case code");
    return failureReason;
  };
  return {
    failNextRegistrations(n, mode) {
      if (mode !== "503" && mode !== "timeout") throw new RangeError(`Unknown registration fault ${mode}`);
      for (let i = count(n); i > 0; i--) state.registrationFailures.push(mode);
    },
    failNextCancels(n) {
      state.cancelFailures += count(n);
    },
    failNextPayouts(n, mode, options = {}) {
      if (mode !== "503" && mode !== "timeout" && mode !== "refused")
        throw new RangeError(`Unknown payout fault ${mode}`);
      const failureReason = reason(options.failureReason);
      for (let i = count(n); i > 0; i--) state.payoutFailures.push({ mode, failureReason });
    },
    failNextPayoutLookups(n) {
      state.payoutLookupFailures += count(n);
    },
    failPayoutAfterPaid: (payoutReference, options = {}) =>
      payouts.failAfterPaid(payoutReference, reason(options.failureReason)),
    duplicateNextWebhook: () => void state.duplicates++,
    dropNextWebhook: () => void state.drops++,
    delayNextWebhook(ms) {
      if (!(ms >= 0)) throw new RangeError("ms must be ≥ 0");
      state.delays.push(ms);
    },
    holdWebhooks() {
      state.holding = true;
    },
    releaseWebhooks(options = {}) {
      state.holding = false;
      release(options.order ?? "fifo");
    },
    holdNextRefunds(n) {
      state.heldRefunds += count(n);
    },
    settleHeldRefunds(outcome) {
      if (outcome !== "succeeded" && outcome !== "failed")
        throw new RangeError(`Unknown refund outcome ${outcome}`);
      refunds.settleHeld(outcome);
    },
    failRefundAfterSuccess: (refundReference) => refunds.failAfterSuccess(refundReference),
    disputeNextPayments(n, options = {}) {
      for (let i = count(n); i > 0; i--) state.disputes.push({ ...options });
    },
    reset() {
      state.holding = false;
      state.heldRefunds = 0;
      release("fifo");
      state.registrationFailures = [];
      state.cancelFailures = 0;
      state.duplicates = 0;
      state.drops = 0;
      state.delays = [];
      state.disputes = [];
      state.payoutFailures = [];
      state.payoutLookupFailures = 0;
    },
  };
}
