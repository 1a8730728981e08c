import type { FxRates } from "../../ports/fx.js";

/** A currency pair: `from` and `to` are different ISO 4217 codes with a minor unit. */
export interface FxPair {
  readonly from: string;
  readonly to: string;
}

/**
 * One `FxRates` adapter under test and the drivers the suite needs to move its source along.
 * Time moves through `at`: the suite passes the instants the harness gives it, so an adapter on a
 * manual clock moves that clock in `expire` / `requote` and returns its new now.
 */
export interface FxRatesHarness {
  /** The adapter, configured against a fresh source. */
  readonly rates: FxRates;
  /** An instant at which every pair of `pairs` is answered. */
  readonly at: Date;
  /** At least two pairs the adapter answers at `at`. */
  readonly pairs: readonly FxPair[];
  /** A pair of real currencies the adapter does not answer at any instant. */
  readonly unknownPair: FxPair;
  /**
   * Lets time pass until every rate answered so far has expired and no newer one is published
   * (a daily feed that stopped publishing, a table left unchanged past its time to live); returns
   * the instant to ask at, which is after `at`.
   */
  expire(): Promise<Date>;
  /**
   * The source publishes new, different rates for every pair of `pairs` (the next day's feed, a
   * new table); returns the adapter to ask — `rates` itself when the adapter picks them up — and
   * an instant at which the new rates are answered.
   */
  requote(): Promise<{ readonly rates: FxRates; readonly at: Date }>;
  /** Releases what the harness holds (files, servers); optional. */
  cleanup?(): Promise<void>;
}
