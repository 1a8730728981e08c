import type { PayoutInput, PayoutResult } from "@settlekit/core";
import { requestFingerprint, requireRequestFields } from "@settlekit/core";
import type { SandboxContext } from "./context.js";
import type { SandboxPayout } from "./records.js";
import { newId } from "./records.js";

const result = (payout: SandboxPayout): PayoutResult => ({
  payoutReference: payout.payoutReference,
  status: payout.status,
});

const validate = (input: PayoutInput): void =>
  requireRequestFields(input, ["payoutId", "sellerId"], { currency: true });

/**
 * `payout`: pays a seller at once (the sandbox has every seller's account). Replays: the same key
 * with the same parameters, or the same settlekit `payoutId` under another key ("already paid"),
 * return the first payout; either one with other parameters is a fatal `idempotency_error`.
 * Payouts appear in the settlement file as negative `payout` rows.
 */
export function payoutSeller(ctx: SandboxContext, input: PayoutInput): PayoutResult {
  validate(input);
  const { idempotencyKey: _key, ...rest } = input;
  const print = requestFingerprint(rest);
  const known = ctx.state.payoutRequests.earlier(input.idempotencyKey, input.payoutId, print);
  if (known) return result(ctx.state.payouts.get(known)!);
  const payout: SandboxPayout = {
    payoutReference: newId("sbx_po"),
    payoutId: input.payoutId,
    sellerId: input.sellerId,
    amount: input.amount,
    currency: input.currency,
    paymentId: input.paymentId,
    pspReference: input.pspReference,
    status: "paid",
    createdAt: ctx.now(),
  };
  ctx.state.payouts.set(payout.payoutReference, payout);
  ctx.state.payoutRequests.remember(input.idempotencyKey, input.payoutId, print, payout.payoutReference);
  return result(payout);
}
