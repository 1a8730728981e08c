/**
 * A foreign-exchange rate: how many units of `to` one unit of `from` buys, as an exact decimal
 * string (never a float), valid until `expiresAt`.
 */
export interface FxRate {
  /**
   * Stable id of this quote (e.g. `ecb:2026-12-01:EUR:JPY:163.91`, `static:USD:JPY:157.23`): the
   * same quote always has the same id, another pair, day or rate another one. Stored on the payout
   * that used it.
   */
  readonly id: string;
  /** Where it came from (`static`, `ecb`, …). */
  readonly source: string;
  readonly from: string;
  readonly to: string;
  /**
   * Units of `to` per unit of `from`, a positive decimal string such as `"157.2300"` (digits,
   * optionally `.` and digits; no sign or exponent; at most 40 characters). Convert with
   * `convertMinor`.
   */
  readonly rate: string;
  /** When the source published it. */
  readonly asOf: Date;
  /** From this instant on the rate must not be used: it is valid for `at < expiresAt`. */
  readonly expiresAt: Date;
}

/**
 * The FX rates port. `getRate` answers a rate valid at `at` for the pair, or throws a
 * `SettlekitError` with code `FX_RATE_UNAVAILABLE` (unknown pair, or only expired rates): a
 * payout in another currency is then not reserved, never converted at a stale rate.
 * `from === to` is not asked (adapters refuse it with `VALIDATION_FAILED`). Every adapter passes
 * `runFxRatesConformance` from `@settlekit/core/testing`; core ships `staticFxRates` (a fixed
 * table) and `jsonFxFeed` (a central bank's daily reference rates).
 */
export interface FxRates {
  getRate(query: { from: string; to: string; at: Date }): Promise<FxRate>;
}
