import { ErrorCodes, SettlekitError } from "../errors.js";
import type { FeePolicy } from "../ports/fees.js";

/** The default: the seller gets everything. */
export const noFees: FeePolicy = () => ({ commission: 0n, logistics: 0n });

/**
 * A commission in basis points of the base (1 000 = 10 %, rounded half up to the minor unit)
 * plus a flat logistics fee per currency (none for currencies not listed), capped so the two never
 * exceed the base.
 */
export function commissionAndLogistics(options: {
  readonly commissionBasisPoints: number;
  readonly logistics?: Readonly<Record<string, bigint>>;
}): FeePolicy {
  const bps = options.commissionBasisPoints;
  if (!Number.isInteger(bps) || bps < 0 || bps > 10_000) {
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      "commissionBasisPoints must be an integer in [0, 10000].",
      {
        param: "commissionBasisPoints",
      },
    );
  }
  for (const [currency, fee] of Object.entries(options.logistics ?? {})) {
    if (typeof fee !== "bigint" || fee < 0n) {
      throw new SettlekitError(
        ErrorCodes.VALIDATION_FAILED,
        `The logistics fee for ${currency} must be a bigint ≥ 0.`,
        {
          param: "logistics",
        },
      );
    }
  }
  return (order, base) => {
    const commission = (base * BigInt(bps) + 5_000n) / 10_000n;
    const flat = options.logistics?.[order.currency] ?? 0n;
    const logistics = flat < base - commission ? flat : base - commission;
    return { commission, logistics };
  };
}
