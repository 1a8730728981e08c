import type { PayoutInput, PayoutResult } from "@settlekit/core";
import { assertCurrency, requestFingerprint } from "@settlekit/core";
import type { SandboxContext } from "./context.js";
import { rejected } from "./errors.js";
import type { SandboxPayout } from "./records.js";
import { newId } from "./records.js";

const result = (payout: SandboxPayout): PayoutResult => ({
  payoutReference: payout.payoutReference,
  status: payout.status,
});

function validate(input: PayoutInput): void {
  const invalid = (param: string, message: string) => rejected(message, "parameter_invalid", param);
  if (typeof input.idempotencyKey !== "string" || input.idempotencyKey === "") {
    throw invalid("idempotencyKey", "idempotencyKey is required.");
  }
  if (typeof input.payoutId !== "string" || input.payoutId === "")
    throw invalid("payoutId", "payoutId is required.");
  if (typeof input.sellerId !== "string" || input.sellerId === "")
    throw invalid("sellerId", "sellerId is required.");
  if (typeof input.amount !== "bigint" || input.amount <= 0n) {
    throw invalid("amount", "amount must be a positive bigint of minor units.");
  }
  try {
    assertCurrency(input.currency);
  } catch (cause) {
    throw rejected(
      `Unsupported currency ${JSON.stringify(input.currency)}.`,
      "parameter_invalid",
      "currency",
      cause,
    );
  }
}

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
    checkoutId: input.checkoutId,
    pspReference: input.pspReference,
    status: "paid",
    createdAt: ctx.now(),
  };
  ctx.state.payouts.set(payout.payoutReference, payout);
  ctx.state.payoutRequests.remember(input.idempotencyKey, input.payoutId, print, payout.payoutReference);
  return result(payout);
}
