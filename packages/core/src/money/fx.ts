import { ErrorCodes, SettlekitError } from "../errors.js";
import { type CurrencyCode, currencyExponent } from "./currency.js";

/**
 * Exact currency conversion: a rate is a decimal string, read as the fraction
 * `digits / 10^fractionDigits`, and every step is integer arithmetic on `bigint`. No floats.
 */

/** The longest rate string accepted (digits and point): generous for any real rate, and a bound on the work. */
export const MAX_FX_RATE_LENGTH = 40;

/** Digits, optionally a point and digits. No sign, no exponent, no grouping, no whitespace. */
const RATE = /^([0-9]+)(?:\.([0-9]+))?$/;

/** A positive rational number `numerator / denominator` (both positive). */
export interface Ratio {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

/**
 * Why `rate` is not a usable FX rate string, or `undefined` when it is: a string of at most
 * {@link MAX_FX_RATE_LENGTH} characters, digits with an optional `.` and digits, above zero.
 */
export function fxRateProblem(rate: unknown): string | undefined {
  if (typeof rate !== "string") return `a rate must be a decimal string, got ${typeof rate}`;
  if (rate.length > MAX_FX_RATE_LENGTH) {
    return `a rate has at most ${MAX_FX_RATE_LENGTH} characters, got ${rate.length}`;
  }
  const match = RATE.exec(rate);
  if (match === null) {
    return `rate ${JSON.stringify(rate)} is not a decimal string like "157.23" (digits, optional "." and digits; no sign or exponent)`;
  }
  if (/^[0.]*$/.test(rate)) return `rate ${JSON.stringify(rate)} is zero; a rate must be above zero`;
  return undefined;
}

/**
 * Reads a rate string as the exact fraction it spells: `"157.23"` is `15723 / 100`.
 *
 * @param param - Field name reported on the error (default `"rate"`).
 * @throws {SettlekitError} `VALIDATION_FAILED` when {@link fxRateProblem} finds a problem.
 */
export function parseFxRate(rate: string, param = "rate"): Ratio {
  const problem = fxRateProblem(rate);
  if (problem !== undefined) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, `Invalid FX rate: ${problem}.`, { param });
  }
  const [, whole = "", fraction = ""] = RATE.exec(rate)!;
  return { numerator: BigInt(whole + fraction), denominator: 10n ** BigInt(fraction.length) };
}

/**
 * The decimal string of the positive fraction `numerator / denominator`, rounded toward zero to
 * `significantDigits` significant digits, without trailing fraction zeros (`"163.91"`, `"0.00610063"`,
 * `"1"`). Exact when the fraction has that few digits. Used for cross rates, which are rarely
 * finite decimals: rounding down means a conversion at the result never gives more than the exact
 * cross rate.
 *
 * @throws {SettlekitError} `VALIDATION_FAILED` when the fraction is not positive or the result
 *   would be longer than {@link MAX_FX_RATE_LENGTH}.
 */
export function ratioToFxRate(ratio: Ratio, significantDigits: number): string {
  const { numerator, denominator } = ratio;
  if (numerator <= 0n || denominator <= 0n) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "An FX rate must be above zero.", {
      param: "rate",
    });
  }
  if (!Number.isSafeInteger(significantDigits) || significantDigits < 1) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "significantDigits must be a whole number ≥ 1.", {
      param: "significantDigits",
    });
  }
  const digits = BigInt(significantDigits);
  // Scale by 10^shift (shift may be negative) so that the integer quotient has exactly
  // `significantDigits` digits. The digit-count estimate is off by at most one; correct it.
  let shift = digits - BigInt(numerator.toString().length - denominator.toString().length);
  const quotient = (s: bigint): bigint =>
    s >= 0n ? (numerator * 10n ** s) / denominator : numerator / (denominator * 10n ** -s);
  let q = quotient(shift);
  const low = 10n ** (digits - 1n);
  const high = 10n ** digits;
  while (q >= high) {
    shift -= 1n;
    q = quotient(shift);
  }
  while (q < low) {
    shift += 1n;
    q = quotient(shift);
  }
  // value ≈ q / 10^shift, q truncated.
  let text: string;
  if (shift <= 0n) {
    text = q.toString() + "0".repeat(Number(-shift));
  } else {
    const body = q.toString().padStart(Number(shift) + 1, "0");
    const cut = body.length - Number(shift);
    const fraction = body.slice(cut).replace(/0+$/, "");
    text = fraction === "" ? body.slice(0, cut) : `${body.slice(0, cut)}.${fraction}`;
  }
  if (text.length > MAX_FX_RATE_LENGTH) {
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      `An FX rate of ${text.length} characters is beyond the ${MAX_FX_RATE_LENGTH} allowed.`,
      { param: "rate" },
    );
  }
  return text;
}

/** What {@link convertMinor} is asked. */
export interface ConvertMinorInput {
  /** Minor units of `from` to convert; a bigint above zero. */
  readonly amount: bigint;
  readonly from: CurrencyCode;
  readonly to: CurrencyCode;
  /** Units of `to` per unit of `from`, a positive decimal string (`"157.23"`), e.g. `FxRate.rate`. */
  readonly rate: string;
  /** The platform's spread in basis points of the converted amount: an integer in 0..10000. */
  readonly spreadBps: number;
}

/** The result of {@link convertMinor}, all in minor units of `to`: `amount + spreadAmount = convertedAmount`. */
export interface FxConversion {
  /** `floor(amount × rate × 10^(exp(to) − exp(from)))`: never more than the rate gives. May be 0. */
  readonly convertedAmount: bigint;
  /** `ceil(convertedAmount × spreadBps / 10000)`: the platform's revenue. */
  readonly spreadAmount: bigint;
  /** What the payee receives: `convertedAmount − spreadAmount` (≥ 0). */
  readonly amount: bigint;
}

/**
 * Converts `amount` minor units of `from` into minor units of `to` at `rate`, exactly, and takes
 * the platform's spread from the result. The minor-unit exponents come from ISO 4217 (USD 2,
 * JPY 0, KWD 3), so `convertMinor({ amount: 10_000n, from: "USD", to: "JPY", rate: "157.23",
 * spreadBps: 0 })` is 15 723 yen (USD 100.00 × 157.23).
 *
 * Both roundings favour nobody but the arithmetic's bound: the conversion rounds down (the payee
 * never gets more than the rate gives, at most one minor unit less than the exact value), the
 * spread rounds up (at most one minor unit more than `spreadBps` exactly), and
 * `amount + spreadAmount === convertedAmount` always. A tiny amount may convert to zero; the
 * caller decides whether that is payable (e.g. a minimum payout checked after conversion).
 * Results are not capped: a ledger posting still refuses amounts beyond 2^53 − 1.
 *
 * @throws {SettlekitError} `INVALID_AMOUNT` (param `amount`) unless `amount` is a bigint above zero;
 *   `UNKNOWN_CURRENCY` (param `from` / `to`); `VALIDATION_FAILED` with param `to` when
 *   `from === to`, `rate` for a malformed or non-positive rate, `spreadBps` unless it is an
 *   integer in 0..10000.
 */
export function convertMinor(input: ConvertMinorInput): FxConversion {
  const { amount, from, to, rate, spreadBps } = input;
  if (typeof amount !== "bigint" || amount <= 0n) {
    throw new SettlekitError(
      ErrorCodes.INVALID_AMOUNT,
      `The amount to convert must be a bigint of minor units above zero, got ${typeof amount === "bigint" ? `${amount}n` : typeof amount}.`,
      { param: "amount" },
    );
  }
  const fromExponent = currencyExponent(from, "from");
  const toExponent = currencyExponent(to, "to");
  if (from === to) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, `Nothing to convert: ${from} to ${to}.`, {
      param: "to",
    });
  }
  const { numerator, denominator } = parseFxRate(rate, "rate");
  if (!Number.isInteger(spreadBps) || spreadBps < 0 || spreadBps > 10_000) {
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      `spreadBps must be an integer in 0..10000, got ${String(spreadBps)}.`,
      { param: "spreadBps" },
    );
  }
  // amount × rate × 10^(toExponent − fromExponent), as one fraction; the power goes to whichever
  // side keeps it integral.
  const shift = toExponent - fromExponent;
  const top = amount * numerator * (shift > 0 ? 10n ** BigInt(shift) : 1n);
  const bottom = denominator * (shift < 0 ? 10n ** BigInt(-shift) : 1n);
  const convertedAmount = top / bottom; // both positive: truncation is floor
  const spreadAmount = (convertedAmount * BigInt(spreadBps) + 9_999n) / 10_000n; // ceil, ≥ 0
  return { convertedAmount, spreadAmount, amount: convertedAmount - spreadAmount };
}
