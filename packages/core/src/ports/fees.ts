import type { PaymentOrder } from "../domain/payment-order.js";
import { ErrorCodes, SettlekitError } from "../errors.js";

/** The platform's cut of one fulfilled order, in minor units of the order's currency. */
export interface OrderFees {
  /** The marketplace's commission (`platform:commission`). */
  readonly commission: bigint;
  /** The logistics fee (`platform:logistics`). */
  readonly logistics: bigint;
}

/**
 * What the platform keeps when a seller fulfils an order. `base` is what the seller is still owed
 * for it (the order amount less what was refunded before fulfilment); the fees must not exceed it.
 */
export type FeePolicy = (order: PaymentOrder, base: bigint) => OrderFees;

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
