import { ErrorCodes, SettlekitError } from "../errors.js";
import { isCurrencyCode } from "../money/currency.js";
import { fxRateProblem, parseFxRate, type Ratio, ratioToFxRate } from "../money/fx.js";
import type { Clock } from "../ports/clock.js";
import type { FxRate, FxRates } from "../ports/fx.js";
import type { Logger } from "../ports/logger.js";
import { systemClock } from "./clock.js";
import { consoleLogger } from "./logger.js";

/** A currency code as FX tables and feeds spell it: three uppercase ASCII letters. */
const CODE = /^[A-Z]{3}$/;

/** The latest instant a `Date` can hold: the expiry of a rate that never expires. */
const NEVER = new Date(8_640_000_000_000_000);

/** Significant digits of a cross rate a feed derives through its base (rounded toward zero). */
export const FX_CROSS_RATE_SIGNIFICANT_DIGITS = 12;

const HOUR = 3_600_000;

function unavailable(
  from: string,
  to: string,
  why: string,
  details: Record<string, unknown> = {},
  cause?: unknown,
) {
  return new SettlekitError(ErrorCodes.FX_RATE_UNAVAILABLE, `No FX rate for ${from}/${to}: ${why}.`, {
    details: { from, to, ...details },
    cause,
  });
}

/** Checks the query every adapter gets; `from === to` is a caller's mistake, not a missing rate. */
function checkQuery(query: { from: string; to: string; at: Date }): void {
  if (typeof query.from !== "string" || typeof query.to !== "string") {
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      "An FX query needs `from` and `to` currency codes.",
      {
        param: typeof query.from !== "string" ? "from" : "to",
      },
    );
  }
  if (query.from === query.to) {
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      `An FX rate from ${query.from} to itself is never asked: nothing to convert.`,
      { param: "to" },
    );
  }
  if (!(query.at instanceof Date) || Number.isNaN(query.at.getTime())) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "An FX query needs `at`, a valid Date.", {
      param: "at",
    });
  }
}

function checkDuration(value: unknown, param: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      `${param} must be a whole number of milliseconds above zero.`,
      { param },
    );
  }
  return value;
}

function checkSource(value: unknown, param: string): string {
  if (typeof value !== "string" || !/^[a-z0-9][a-z0-9_-]*$/.test(value)) {
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      `${param} must be a short lowercase name (letters, digits, "-", "_"), e.g. "ecb"; it starts every rate id.`,
      { param },
    );
  }
  return value;
}

/** A fixed table of rates, keyed `"FROM/TO"`: `{ "USD/JPY": "157.23", "EUR/KWD": "0.3251" }`. */
export type FxRateTable = Readonly<Record<string, string>>;

/** {@link staticFxRates}' table with its settings. */
export interface StaticFxRatesConfig {
  readonly rates: FxRateTable;
  /** How long the table is valid after `asOf`; default: forever (`expiresAt` is the last `Date`). */
  readonly ttlMs?: number | undefined;
  /** The `source` of every rate and the first part of its id (default `"static"`). */
  readonly source?: string | undefined;
  /** When the rates were set (each rate's `asOf`); default: the clock's now when the table is made. */
  readonly asOf?: Date | undefined;
}

/** Options of {@link staticFxRates}. */
export interface StaticFxRatesOptions {
  /** Gives the default `asOf` (default: the wall clock). */
  readonly clock?: Clock | undefined;
}

/**
 * An {@link FxRates} adapter over a fixed table, for tests, demos, and platforms that set their own
 * rates: `staticFxRates({ "USD/JPY": "157.23" })`, or `staticFxRates({ rates, ttlMs: 86_400_000 })`
 * so a table nobody updates stops converting after a day.
 *
 * - A pair is answered only as listed: `"USD/JPY"` does not answer JPY → USD. An inverse would be a
 *   rate nobody quoted (and `1 / 157.23` is not a finite decimal); list both directions if both
 *   are needed, each with the rate the platform means.
 * - A rate's id is `<source>:<FROM>:<TO>:<rate>` (`static:USD:JPY:157.23`): the same quote always has
 *   the same id, a changed rate a new one.
 * - The table is checked when it is made: keys `"ABC/XYZ"` (two different ISO 4217 currencies),
 *   rates positive decimal strings (no floats). A bad entry throws `VALIDATION_FAILED` naming it.
 * - At or after `asOf + ttlMs` every pair throws `FX_RATE_UNAVAILABLE`, as does a pair not listed.
 */
export function staticFxRates(
  table: FxRateTable | StaticFxRatesConfig,
  options: StaticFxRatesOptions = {},
): FxRates {
  const config: StaticFxRatesConfig =
    typeof table === "object" && table !== null && "rates" in table && typeof table.rates === "object"
      ? (table as StaticFxRatesConfig)
      : { rates: table as FxRateTable };
  if (typeof config.rates !== "object" || config.rates === null) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "staticFxRates needs a table of rates.", {
      param: "rates",
    });
  }
  const source = checkSource(config.source ?? "static", "source");
  const asOf = config.asOf ?? (options.clock ?? systemClock).now();
  if (!(asOf instanceof Date) || Number.isNaN(asOf.getTime())) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "asOf must be a valid Date.", { param: "asOf" });
  }
  const expiresAt =
    config.ttlMs === undefined ? NEVER : new Date(asOf.getTime() + checkDuration(config.ttlMs, "ttlMs"));
  const quotes = new Map<string, FxRate>();
  for (const [pair, rate] of Object.entries(config.rates)) {
    const param = `rates[${JSON.stringify(pair)}]`;
    const [from = "", to = "", ...rest] = pair.split("/");
    if (!isCurrencyCode(from) || !isCurrencyCode(to) || rest.length > 0 || from === to) {
      throw new SettlekitError(
        ErrorCodes.VALIDATION_FAILED,
        `FX table key ${JSON.stringify(pair)} is not a pair "FROM/TO" of two different ISO 4217 currencies with a minor unit, e.g. "USD/JPY".`,
        { param },
      );
    }
    const problem = fxRateProblem(rate);
    if (problem !== undefined) {
      throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, `FX table ${pair}: ${problem}.`, { param });
    }
    quotes.set(pair, { id: `${source}:${from}:${to}:${rate}`, source, from, to, rate, asOf, expiresAt });
  }
  return {
    getRate: async (query) => {
      checkQuery(query);
      const quote = quotes.get(`${query.from}/${query.to}`);
      if (quote === undefined) {
        const inverse = quotes.has(`${query.to}/${query.from}`)
          ? ` (it lists ${query.to}/${query.from}; inverses are not derived)`
          : "";
        throw unavailable(query.from, query.to, `the ${source} table does not list this pair${inverse}`, {
          source,
        });
      }
      if (query.at.getTime() >= expiresAt.getTime()) {
        throw unavailable(
          query.from,
          query.to,
          `the ${source} table expired at ${expiresAt.toISOString()} (asked for ${query.at.toISOString()})`,
          { source, rateId: quote.id, expiresAt: expiresAt.toISOString() },
        );
      }
      // Fresh Dates: a caller that mutates its answer cannot change the next one.
      return Object.freeze({ ...quote, asOf: new Date(quote.asOf), expiresAt: new Date(quote.expiresAt) });
    },
  };
}

/**
 * A reference-rate document as {@link jsonFxFeed} reads it (the European Central Bank's daily
 * reference rates, as JSON): one unit of `base` buys `rates[X]` units of X, all published for `date`.
 */
export interface FxFeedDocument {
  /** Three-letter code of the base currency (ECB: `"EUR"`). */
  readonly base: string;
  /** The reference day, `YYYY-MM-DD`. */
  readonly date: string;
  /** Units of each currency per unit of `base`, as decimal strings (`{ "USD": "1.0512" }`). */
  readonly rates: Readonly<Record<string, string>>;
}

/** Options of {@link jsonFxFeed}. */
export interface JsonFxFeedOptions {
  /**
   * Loads the current document: an object shaped like {@link FxFeedDocument}, or its JSON text
   * (read from a file, fetched from a URL). Called on the first query and again when the cached
   * document is due for a refresh or has expired.
   */
  readonly load: () => Promise<unknown> | unknown;
  /** Decides when the cached document is refreshed or expired (default: the wall clock). */
  readonly clock?: Clock | undefined;
  /**
   * How long a document's rates are valid, from 00:00 UTC of its `date` (default 36 h: a daily feed
   * that missed one publication is stale). Note that the ECB publishes at about 16:00 CET on TARGET
   * business days only: with 36 h, day D's rates expire at 12:00 UTC on D + 1, hours before D + 1's
   * are out, and there are none at weekends. Pick `maxAgeMs` to match the feed you load
   * (e.g. 42 h for ECB weekdays, 90 h to bridge a weekend).
   */
  readonly maxAgeMs?: number | undefined;
  /**
   * How often the cached (still valid) document is reloaded to pick up a newer one (default 1 h).
   * A refresh that fails or is malformed keeps the cached document while it is valid (and logs a
   * warning); once it has expired, a failing load makes every query `FX_RATE_UNAVAILABLE` (the
   * load is tried again at most once a minute, or every `refreshMs` if shorter).
   */
  readonly refreshMs?: number | undefined;
  /** The `source` of every rate and the first part of its id (default `"feed"`; e.g. `"ecb"`). */
  readonly source?: string | undefined;
  /** Where a failed refresh is reported (default: `console`). */
  readonly logger?: Logger | undefined;
}

/** A document that passed validation, with its rates as exact fractions. */
interface LoadedDocument {
  readonly base: string;
  readonly date: string;
  readonly asOf: Date;
  readonly expiresAt: Date;
  /** Units of each currency per unit of base; the base itself is 1. */
  readonly rates: ReadonlyMap<string, Ratio>;
  /** When it was loaded (clock time), for the refresh interval. */
  readonly loadedAt: number;
}

/** Validates a feed document whole; any problem rejects it (no rate of a malformed document is used). */
function readDocument(raw: unknown, source: string): Omit<LoadedDocument, "expiresAt" | "loadedAt"> {
  const malformed = (problem: string) =>
    new SettlekitError(
      ErrorCodes.FX_RATE_UNAVAILABLE,
      `The ${source} FX feed document is malformed: ${problem}. None of its rates is used.`,
      { details: { source, problem } },
    );
  let value = raw;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      throw malformed("it is not valid JSON");
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw malformed(
      `expected an object { base, date, rates }, got ${Array.isArray(value) ? "an array" : typeof value}`,
    );
  }
  const { base, date, rates } = value as Record<string, unknown>;
  if (typeof base !== "string" || !CODE.test(base)) {
    throw malformed(`base must be a three-letter uppercase currency code, got ${JSON.stringify(base)}`);
  }
  if (typeof date !== "string" || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(date)) {
    throw malformed(`date must be a day "YYYY-MM-DD", got ${JSON.stringify(date)}`);
  }
  const asOf = new Date(`${date}T00:00:00.000Z`);
  if (Number.isNaN(asOf.getTime()) || asOf.toISOString().slice(0, 10) !== date) {
    throw malformed(`date ${JSON.stringify(date)} is not a calendar day`);
  }
  if (typeof rates !== "object" || rates === null || Array.isArray(rates)) {
    throw malformed("rates must be an object of currency code → decimal string");
  }
  const parsed = new Map<string, Ratio>([[base, { numerator: 1n, denominator: 1n }]]);
  for (const [code, rate] of Object.entries(rates)) {
    if (!CODE.test(code))
      throw malformed(`rates key ${JSON.stringify(code)} is not a three-letter uppercase code`);
    if (typeof rate === "number") {
      throw malformed(
        `rates.${code} is the JSON number ${rate}; rates must be decimal strings such as "1.0512"`,
      );
    }
    const problem = fxRateProblem(rate);
    if (problem !== undefined) throw malformed(`rates.${code}: ${problem}`);
    const ratio = parseFxRate(rate as string);
    if (code === base && ratio.numerator !== ratio.denominator) {
      throw malformed(`rates.${code} is the base itself and must be 1, got ${JSON.stringify(rate)}`);
    }
    parsed.set(code, ratio);
  }
  if (parsed.size < 2) throw malformed("rates lists no currency besides the base");
  return { base, date, asOf, rates: parsed };
}

/**
 * An {@link FxRates} adapter over a central bank's daily reference rates as JSON, e.g. the ECB's:
 * `{ "base": "EUR", "date": "2026-12-01", "rates": { "USD": "1.0512", "JPY": "163.91" } }`.
 *
 * - Every pair of listed currencies is answered, the base included: `EUR/USD` is the listed rate,
 *   `USD/EUR` its inverse and `USD/JPY` the cross rate through the base (`163.91 / 1.0512`). Each
 *   is computed from the listed strings as an exact fraction and written with
 *   {@link FX_CROSS_RATE_SIGNIFICANT_DIGITS} (12) significant digits, rounded toward zero (a listed
 *   rate with at most 12 digits comes back unchanged): converting at it never gives more than the
 *   exact cross rate.
 * - A rate's `asOf` is 00:00 UTC of the document's `date`, `expiresAt` is `asOf + maxAgeMs`, and its
 *   id is `<source>:<date>:<FROM>:<TO>:<rate>` (`ecb:2026-12-01:USD:JPY:155.926560121`): stable for
 *   the same quote, different for another day or a corrected rate.
 * - The loaded document is cached; it is reloaded every `refreshMs` and whenever it has expired
 *   (at the clock's now, or at the `at` asked for). A document is validated whole (base and keys
 *   three-letter codes, `date` a calendar day, every rate a positive decimal string: JSON numbers
 *   are refused); a malformed one is never used, even partly, and surfaces as
 *   `FX_RATE_UNAVAILABLE` naming the problem. Concurrent queries share one load.
 * - A pair with a currency the document does not list, or asked at or after `expiresAt` (with no
 *   newer document loadable), throws `FX_RATE_UNAVAILABLE` naming the pair and the reason.
 */
export function jsonFxFeed(options: JsonFxFeedOptions): FxRates {
  if (typeof options?.load !== "function") {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "jsonFxFeed needs `load`, a function.", {
      param: "load",
    });
  }
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? consoleLogger;
  const maxAgeMs = checkDuration(options.maxAgeMs ?? 36 * HOUR, "maxAgeMs");
  const refreshMs = checkDuration(options.refreshMs ?? HOUR, "refreshMs");
  const source = checkSource(options.source ?? "feed", "source");

  /** How soon a load that failed while nothing valid is cached is tried again (its error is repeated until then). */
  const retryMs = Math.min(refreshMs, 60_000);

  let cached: LoadedDocument | undefined;
  /** When a failed refresh was last tried (clock ms), so a broken feed is not asked on every query. */
  let failedAt: number | undefined;
  /** The last load that failed with nothing valid cached, repeated for `retryMs`. */
  let lastFailure: { readonly at: number; readonly error: unknown } | undefined;
  let loading: Promise<LoadedDocument> | undefined;
  let refreshing: Promise<LoadedDocument> | undefined;

  const load = async (): Promise<LoadedDocument> => {
    let raw: unknown;
    try {
      raw = await options.load();
    } catch (error) {
      throw new SettlekitError(
        ErrorCodes.FX_RATE_UNAVAILABLE,
        `The ${source} FX feed could not be loaded: ${error instanceof Error ? error.message : String(error)}.`,
        { details: { source }, cause: error },
      );
    }
    const document = readDocument(raw, source);
    return {
      ...document,
      expiresAt: new Date(document.asOf.getTime() + maxAgeMs),
      loadedAt: clock.now().getTime(),
    };
  };

  /** One load at a time; its result replaces the cache unless it is older than what is cached. */
  const reload = (): Promise<LoadedDocument> => {
    loading ??= load()
      .then((fresh) => {
        failedAt = undefined;
        if (cached !== undefined && fresh.asOf.getTime() < cached.asOf.getTime()) {
          logger.warn(
            `The ${source} FX feed went back from ${cached.date} to ${fresh.date}; keeping ${cached.date}.`,
            {
              source,
            },
          );
          cached = { ...cached, loadedAt: fresh.loadedAt };
        } else {
          cached = fresh;
        }
        return cached;
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  };

  const current = async (at: Date): Promise<LoadedDocument> => {
    const now = clock.now().getTime();
    const doc = cached;
    const expired = doc === undefined || doc.expiresAt.getTime() <= Math.max(now, at.getTime());
    if (expired) {
      if (lastFailure !== undefined && now - lastFailure.at < retryMs) throw lastFailure.error;
      try {
        const fresh = await reload();
        lastFailure = undefined;
        return fresh;
      } catch (error) {
        lastFailure = { at: now, error };
        throw error;
      }
    }
    const due = now - Math.max(doc.loadedAt, failedAt ?? Number.NEGATIVE_INFINITY) >= refreshMs;
    if (!due) return doc;
    // Shared by concurrent queries, so a failed refresh is logged once.
    refreshing ??= reload()
      .catch((error: unknown) => {
        failedAt = now;
        logger.warn(
          `The ${source} FX feed could not be refreshed; the rates of ${doc.date} stay in use until ${doc.expiresAt.toISOString()}.`,
          { source, error: error instanceof Error ? error.message : String(error) },
        );
        return doc;
      })
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  };

  return {
    getRate: async (query) => {
      checkQuery(query);
      const { from, to, at } = query;
      let doc: LoadedDocument;
      try {
        doc = await current(at);
      } catch (error) {
        if (error instanceof SettlekitError) {
          throw unavailable(from, to, error.message.replace(/\.$/, ""), { source, ...error.details }, error);
        }
        throw error;
      }
      const fromRate = doc.rates.get(from);
      const toRate = doc.rates.get(to);
      if (fromRate === undefined || toRate === undefined) {
        const missing = [from, to].filter((code) => !doc.rates.has(code)).join(" and ");
        throw unavailable(
          from,
          to,
          `the ${source} rates of ${doc.date} (base ${doc.base}) do not list ${missing}`,
          {
            source,
            date: doc.date,
          },
        );
      }
      if (at.getTime() >= doc.expiresAt.getTime()) {
        throw unavailable(
          from,
          to,
          `the ${source} rates of ${doc.date} expired at ${doc.expiresAt.toISOString()} (asked for ${at.toISOString()}) and no newer document could be loaded`,
          { source, date: doc.date, expiresAt: doc.expiresAt.toISOString() },
        );
      }
      // to per from = (to per base) / (from per base), as one fraction.
      let rate: string;
      try {
        rate = ratioToFxRate(
          {
            numerator: toRate.numerator * fromRate.denominator,
            denominator: toRate.denominator * fromRate.numerator,
          },
          FX_CROSS_RATE_SIGNIFICANT_DIGITS,
        );
      } catch (error) {
        throw unavailable(from, to, `the cross rate through ${doc.base} is out of range`, { source }, error);
      }
      return Object.freeze({
        id: `${source}:${doc.date}:${from}:${to}:${rate}`,
        source,
        from,
        to,
        rate,
        asOf: new Date(doc.asOf),
        expiresAt: new Date(doc.expiresAt),
      });
    },
  };
}
