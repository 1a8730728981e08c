import { ErrorCodes, SettlekitError } from "../errors.js";

/**
 * Account addresses: 2–6 `:`-separated segments, the first a lowercase kind (`seller`, `psp`,
 * `platform`, `bank`…), the rest ids or names of `[A-Za-z0-9_.-]`. At most 200 characters.
 */
const ADDRESS = /^[a-z][a-z0-9_]*(?::[A-Za-z0-9_.-]+){1,5}$/;
const MAX_ADDRESS_LENGTH = 200;

export function isAccountAddress(address: unknown): address is string {
  return typeof address === "string" && address.length <= MAX_ADDRESS_LENGTH && ADDRESS.test(address);
}

export function assertAccountAddress(address: unknown, param = "account"): asserts address is string {
  if (!isAccountAddress(address)) {
    throw new SettlekitError(
      ErrorCodes.INVALID_ACCOUNT,
      `Account address ${JSON.stringify(address)} is malformed: expected segments like "seller:S42:pending".`,
      { param },
    );
  }
}

function segment(id: string, param: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(id)) {
    throw new SettlekitError(
      ErrorCodes.INVALID_ACCOUNT,
      `Id ${JSON.stringify(id)} cannot be used in an account address.`,
      {
        param,
      },
    );
  }
  return id;
}

/** The chart of accounts of the design, as address builders. */
export const accounts = {
  /** Money a PSP owes the platform for captured payments, until it settles. */
  pspReceivable: (pspId: string) => `psp:${segment(pspId, "pspId")}:receivable`,
  /**
   * Money the PSP withdrew for open disputes (amount and fee): it comes back to the receivable
   * if the dispute is won, and is written off against the sellers' held balances if it is lost.
   */
  pspDisputes: (pspId: string) => `psp:${segment(pspId, "pspId")}:disputes`,
  /** Money sent to sellers through the PSP. */
  pspPayouts: (pspId: string) => `psp:${segment(pspId, "pspId")}:payouts`,
  /** A seller's share of captured payments not yet fulfilled. */
  sellerPending: (sellerId: string) => `seller:${segment(sellerId, "sellerId")}:pending`,
  /** A seller's share that is payable (fulfilled, fees deducted). */
  sellerAvailable: (sellerId: string) => `seller:${segment(sellerId, "sellerId")}:available`,
  /**
   * A seller's share of open disputes, frozen: moved from `available` when the PSP withdraws the
   * money, back when it reinstates it, written off when the dispute is lost.
   */
  sellerHeld: (sellerId: string) => `seller:${segment(sellerId, "sellerId")}:held`,
  /** A seller's money reserved for a payout in flight (in the payout's currency). */
  sellerReserved: (sellerId: string) => `seller:${segment(sellerId, "sellerId")}:reserved`,
  platformCommission: "platform:commission",
  /** Dispute fees the platform bears (`disputeFees: "platform"`), net of fees the PSP returned. */
  platformDisputeFees: "platform:dispute_fees",
  platformLogistics: "platform:logistics",
  platformPspFees: "platform:psp_fees",
  /**
   * Money the PSP captured that no payment order owns (an old page paid after a retry, a capture
   * after expiry), owed back to the buyer until its automatic refund succeeds.
   */
  platformCapturesToReturn: "platform:captures_to_return",
  /**
   * What the platform lost to chargebacks no seller bears: a dispute of a capture no payment order
   * owns, lost, whose money had already been refunded to the buyer (the buyer got it twice).
   */
  platformDisputeLosses: "platform:dispute_losses",
  /**
   * The platform's FX position, per currency: a payout converted from C to D credits it in C and
   * debits it in D, so each currency stays balanced on its own.
   */
  platformFx: "platform:fx",
  /** The platform's FX spread on converted payouts (revenue, in the payout currency). */
  platformFxRevenue: "platform:fx_revenue",
  bankSettlement: "bank:settlement",
} as const;
