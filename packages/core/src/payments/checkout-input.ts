import { z } from "zod";
import { PAYMENT_METHODS } from "../domain/checkout.js";
import { ErrorCodes, SettlekitError } from "../errors.js";
import { MAX_POSTING_AMOUNT } from "../ledger/types.js";
import { isCurrencyCode } from "../money/currency.js";

const id = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, _ . - only");
const url = z.url({ protocol: /^https?$/ }).max(2048);
const metadata = z
  .record(z.string().min(1).max(40), z.string().max(500))
  .refine((m) => Object.keys(m).length <= 50, "at most 50 metadata keys")
  .default({});

/** What a host passes to `createCheckout`: one payment event with one order per seller. */
export const checkoutInputSchema = z
  .object({
    buyerId: id,
    currency: z.string().refine(isCurrencyCode, "an active ISO 4217 currency code with a minor unit"),
    method: z.enum(PAYMENT_METHODS),
    orders: z
      .array(
        z.object({
          sellerId: id,
          amount: z.bigint().positive().max(MAX_POSTING_AMOUNT),
          description: z.string().max(500).optional(),
          metadata,
        }),
      )
      .min(1)
      .max(100),
    successUrl: url,
    cancelUrl: url,
    metadata,
  })
  .superRefine((input, ctx) => {
    const sellers = new Set<string>();
    input.orders.forEach((order, i) => {
      if (sellers.has(order.sellerId)) {
        ctx.addIssue({ code: "custom", path: ["orders", i, "sellerId"], message: "one order per seller" });
      }
      sellers.add(order.sellerId);
    });
    const total = input.orders.reduce((sum, order) => sum + order.amount, 0n);
    if (total > MAX_POSTING_AMOUNT)
      ctx.addIssue({ code: "custom", path: ["orders"], message: "total too large" });
  });

export type CheckoutInput = z.input<typeof checkoutInputSchema>;
export type ValidCheckoutInput = z.output<typeof checkoutInputSchema>;

/** Parses with a schema; the first issue becomes a VALIDATION_FAILED error naming its field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = issue.path.map(String).join(".") || undefined;
  throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, `${param ?? "input"}: ${issue.message}`, {
    param,
    details: {
      issues: result.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })),
    },
  });
}
