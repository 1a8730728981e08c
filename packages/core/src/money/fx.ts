// Placeholder until the FX helper's exact conversion lands (same signature).
import type { CurrencyCode } from "./currency.js";

export function convertMinor(_input: {
  amount: bigint;
  from: CurrencyCode;
  to: CurrencyCode;
  rate: string;
  spreadBps: number;
}): { convertedAmount: bigint; spreadAmount: bigint; amount: bigint } {
  throw new Error("convertMinor is not implemented yet");
}
