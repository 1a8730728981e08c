import { z } from "zod";
import { PAYMENT_METHODS } from "../../domain/payment.js";
import type { ErrorCode } from "../../errors.js";
import { ErrorCodes, SettlekitError } from "../../errors.js";
import { MAX_POSTING_AMOUNT } from "../../ledger/types.js";
import { isCurrencyCode } from "../../money/currency.js";

/** A host id (buyer, seller): the characters a URL path and a log line carry as they are. */
export const idSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, _ . - only");
const id = idSchema;
/**
 * A redirect URL: http(s) only (never `javascript:` or `data:`), without credentials
 * (`https://shop.example@evil.example`). The origin is checked against `allowedRedirectOrigins`.
 */
export const redirectUrlSchema = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .refine((value) => {
    const parsed = new URL(value);
    return parsed.username === "" && parsed.password === "";
  }, "a URL without user name or password");
const url = redirectUrlSchema;

/** A UTF-16 surrogate without its pair: not Unicode text. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/**
 * Whether `value` is text every store can keep as given: well-formed Unicode without NUL
 * (Postgres refuses both in text and jsonb; SQLite would keep mojibake).
 */
export const isStorableText = (value: string): boolean =>
  !value.includes("\u0000") && !LONE_SURROGATE.test(value);
const STORABLE = "valid Unicode without NUL characters";

/** Free text (descriptions, reasons, metadata values) of at most `max` characters. */
export const text = (max: number) => z.string().max(max).refine(isStorableText, STORABLE);

/**
 * A payment's metadata goes to the PSP along with one key of the adapter's own (its payment id,
 * e.g. Stripe's `settlekit_payment_id`): PSPs allow 50 keys (Stripe, Square), so a host gets 49.
 */
export const MAX_PAYMENT_METADATA_KEYS = 49;

/**
 * Host key/value pairs. Keys are checked here rather than by the record's key schema, so that a
 * bad key is reported on the field (`metadata`, `orders.0.metadata`) with a message that says why.
 * `sentToPsp`: the payment's own metadata, which the PSP receives — one key fewer (see above) and
 * no `[` or `]` in keys (Stripe refuses them: they are its form encoding's brackets).
 */
const metadataOf = (sentToPsp: boolean) => {
  const maxKeys = sentToPsp ? MAX_PAYMENT_METADATA_KEYS : 50;
  return z
    .record(z.string(), text(500))
    .superRefine((m, ctx) => {
      const keys = Object.keys(m);
      if (keys.length > maxKeys) {
        const why = sentToPsp ? " (PSPs take 50; one is settlekit's own)" : "";
        ctx.addIssue({ code: "custom", message: `at most ${maxKeys} metadata keys${why}` });
      }
      for (const key of keys) {
        if (key.length < 1 || key.length > 40 || !isStorableText(key)) {
          ctx.addIssue({ code: "custom", message: `keys are 1–40 characters of ${STORABLE}` });
          return;
        }
        if (sentToPsp && /[[\]]/.test(key)) {
          ctx.addIssue({ code: "custom", message: "keys cannot contain [ or ]" });
          return;
        }
      }
    })
    .default({});
};

/** What a host passes to `createPayment`: one payment event with one order per seller. */
export const paymentInputSchema = z
  .object({
    buyerId: id,
    currency: z.string().refine(isCurrencyCode, {
      message: "an active ISO 4217 currency code with a minor unit, in capitals (USD)",
      params: { code: ErrorCodes.UNKNOWN_CURRENCY },
    }),
    method: z.enum(PAYMENT_METHODS),
    orders: z
      .array(
        z.object({
          sellerId: id,
          amount: z.bigint().positive().max(MAX_POSTING_AMOUNT),
          description: text(500).optional(),
          metadata: metadataOf(false),
        }),
      )
      .min(1)
      .max(100),
    successUrl: url,
    cancelUrl: url,
    metadata: metadataOf(true),
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

export type PaymentInput = z.input<typeof paymentInputSchema>;
export type ValidPaymentInput = z.output<typeof paymentInputSchema>;

/**
 * Refuses a success or cancel URL outside the allowed origins (`allowedRedirectOrigins`), on its
 * field: the hosted page sends the buyer there, so it must be the marketplace's own page.
 */
export function checkRedirectOrigins(
  input: { readonly successUrl: string; readonly cancelUrl: string },
  allowed: ReadonlySet<string> | undefined,
): void {
  if (!allowed) return;
  for (const param of ["successUrl", "cancelUrl"] as const) {
    const origin = new URL(input[param]).origin;
    if (!allowed.has(origin)) {
      throw new SettlekitError(
        ErrorCodes.VALIDATION_FAILED,
        `${param}: ${origin} is not one of the allowed redirect origins (${[...allowed].join(", ")}).`,
        { param },
      );
    }
  }
}

/** The text fields of a refund request (the amount is checked against the order when reserving). */
export const refundTextSchema = z.object({
  paymentOrderId: z.string().min(1).max(255).refine(isStorableText, STORABLE).optional(),
  reason: text(500).optional(),
});

/**
 * Parses with a schema; the first issue becomes an error naming its field: VALIDATION_FAILED, or
 * the code a custom issue carries (`params.code`, e.g. UNKNOWN_CURRENCY) — the REST router maps
 * the same issues to the same codes.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = issue.path.map(String).join(".") || undefined;
  const custom = issue.code === "custom" ? (issue.params?.code as string | undefined) : undefined;
  const code = custom && custom in ErrorCodes ? (custom as ErrorCode) : ErrorCodes.VALIDATION_FAILED;
  throw new SettlekitError(code, `${param ?? "input"}: ${issue.message}`, {
    param,
    details: {
      issues: result.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })),
    },
  });
}
