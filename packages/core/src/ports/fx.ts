/**
 * A foreign-exchange rate: how many units of `to` one unit of `from` buys, as an exact decimal
 * string (never a float), valid until `expiresAt`.
 */
export interface FxRate {
  /** Stable id of this quote (e.g. `ecb:2026-12-01:EUR:JPY`): stored on the payout that used it. */
  readonly id: string;
  /** Where it came from (`static`, `ecb`, …). */
  readonly source: string;
  readonly from: string;
  readonly to: string;
  /** Units of `to` per unit of `from`, a positive decimal string such as `"157.2300"`. */
  readonly rate: string;
  /** When the source published it. */
  readonly asOf: Date;
  /** After this instant the rate must not be used. */
  readonly expiresAt: Date;
}

/**
 * The FX rates port. `getRate` answers a rate valid at `at` for the pair, or throws a
 * `SettlekitError` with code `FX_RATE_UNAVAILABLE` (unknown pair, or only expired rates): a
 * payout in another currency is then not reserved, never converted at a stale rate.
 * `from === to` is not asked.
 */
export interface FxRates {
  getRate(query: { from: string; to: string; at: Date }): Promise<FxRate>;
}
