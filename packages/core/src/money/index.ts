/**
 * The money module: exact amounts in integer minor units (`bigint`), ISO 4217 currencies with
 * their exponents, strict decimal-string parsing and formatting, lossless allocation, and exact
 * currency conversion at a decimal-string rate.
 * No floats anywhere: the only `number` crossings are the explicit safe-integer helpers.
 */
export { allocate } from "./allocate.js";
export type { Currency, CurrencyCode } from "./currency.js";
export { assertCurrency, currencyExponent, getCurrency, isCurrencyCode } from "./currency.js";
export type { ParseMoneyOptions } from "./decimal.js";
export { formatMoney, parseMoney } from "./decimal.js";
export type { ConvertMinorInput, FxConversion } from "./fx.js";
export { convertMinor } from "./fx.js";
export type { Iso4217Entry } from "./iso4217.generated.js";
export { ISO4217, ISO4217_PUBLISHED } from "./iso4217.generated.js";
export type { Money } from "./money.js";
export {
  add,
  compare,
  equals,
  isMoney,
  isNegative,
  isPositive,
  isZero,
  money,
  negate,
  subtract,
  sum,
  zero,
} from "./money.js";
export type { SafeIntegerOptions } from "./safe-integer.js";
export { fromSafeInteger, toMinorUnitsSafeNumber } from "./safe-integer.js";
