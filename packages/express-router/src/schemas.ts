import {
  DISPUTE_STATUSES,
  idSchema,
  isAccountAddress,
  isCurrencyCode,
  isStorableText,
  MAX_PAYMENT_METADATA_KEYS,
  PAYMENT_METHODS,
  PAYMENT_STATUSES,
  PAYOUT_STATUSES,
  RECONCILIATION_CLASSES,
  redirectUrlSchema,
  storableText,
} from "@settlekit/core";
import { z } from "zod";

/**
 * The API's request and response shapes (snake_case, money as minor units). Handlers parse with
 * the request schemas; `/openapi.json` is generated from all of them, so the two cannot drift.
 */

const MAX_AMOUNT = Number.MAX_SAFE_INTEGER;
const DIGITS = /^[1-9]\d{0,15}$/;

export const AMOUNT_FORMAT =
  'integer minor units, as a string of digits or a JSON integer ("1234" for 12.34 USD)';
const AMOUNT_EXPECTED = `a positive amount in ${AMOUNT_FORMAT}`;

/**
 * A money amount at the edge: minor units, as a JSON integer or a string of digits (for clients
 * whose JSON numbers are doubles). Out to core as a bigint. Every refusal says what is expected.
 */
export const amountSchema = z
  .preprocess(
    (value, ctx) => {
      if (typeof value === "string" && /^-?\d*[.,]\d+$/.test(value)) {
        ctx.addIssue({
          code: "custom",
          message: `amounts are ${AMOUNT_FORMAT}, without decimals`,
          params: { code: "TOO_MANY_DECIMALS" },
        });
      } else if (typeof value === "number" && Number.isFinite(value) && !Number.isInteger(value)) {
        ctx.addIssue({ code: "custom", message: `amounts are ${AMOUNT_FORMAT}, not decimal numbers` });
      } else if (typeof value === "string" && DIGITS.test(value) && BigInt(value) > BigInt(MAX_AMOUNT)) {
        ctx.addIssue({ code: "custom", message: `at most ${MAX_AMOUNT} minor units`, input: value });
      }
      return value;
    },
    z.union(
      [
        z
          .int({ error: AMOUNT_EXPECTED })
          .min(1, AMOUNT_EXPECTED)
          .max(MAX_AMOUNT, `at most ${MAX_AMOUNT} minor units`),
        z.string().regex(DIGITS, AMOUNT_EXPECTED),
      ],
      { error: AMOUNT_EXPECTED },
    ),
  )
  .transform((value) => BigInt(value))
  .meta({
    description: `Minor units (cents for USD, yen for JPY), positive: ${AMOUNT_FORMAT}.`,
    example: 1999,
  });

// One definition with core, so the JS API and REST refuse the same ids and URLs.
const id = idSchema;
const url = redirectUrlSchema;
// Any string that is not an active code (lowercase included) is UNKNOWN_CURRENCY, as in core.
const currency = z
  .string()
  .refine(isCurrencyCode, {
    message: "an active ISO 4217 currency code with a minor unit, in capitals (USD)",
    params: { code: "UNKNOWN_CURRENCY" },
  })
  .meta({ description: "ISO 4217 code; the amounts' exponent follows it.", example: "USD" });
/** Free text: well-formed Unicode without NUL (the body check refuses the rest first). */
const text = storableText;
const metadata = z
  .record(z.string(), text(500))
  .superRefine((m, ctx) => {
    const keys = Object.keys(m);
    if (keys.length > 50) ctx.addIssue({ code: "custom", message: "at most 50 metadata keys" });
    if (keys.some((k) => k.length < 1 || k.length > 40 || !isStorableText(k))) {
      ctx.addIssue({ code: "custom", message: "keys are 1–40 characters of valid Unicode without NUL" });
    }
  })
  .meta({ description: "Up to 50 string pairs (keys of 1–40 characters), returned as given." });
/** The payment's own metadata goes to the PSP with one key of settlekit's: see core's `MAX_PAYMENT_METADATA_KEYS`. */
const paymentMetadata = z
  .record(z.string(), text(500))
  .superRefine((m, ctx) => {
    const keys = Object.keys(m);
    if (keys.length > MAX_PAYMENT_METADATA_KEYS) {
      ctx.addIssue({
        code: "custom",
        message: `at most ${MAX_PAYMENT_METADATA_KEYS} metadata keys (PSPs take 50; one is settlekit's own)`,
      });
    }
    if (keys.some((k) => k.length < 1 || k.length > 40 || !isStorableText(k) || /[[\]]/.test(k))) {
      ctx.addIssue({
        code: "custom",
        message: "keys are 1–40 characters of valid Unicode without NUL, [ or ]",
      });
    }
  })
  .meta({
    description:
      "Up to 49 string pairs (keys of 1–40 characters without [ or ], values up to 500), sent to the PSP and returned as given.",
  });

export const createPaymentBody = z
  .strictObject({
    currency,
    method: z.enum(PAYMENT_METHODS),
    orders: z
      .array(
        z.strictObject({
          seller_id: id,
          amount: amountSchema,
          /** Optional; when given it must be the payment's currency (one payment, one currency). */
          currency: currency.optional(),
          description: text(500).optional(),
          metadata: metadata.optional(),
        }),
      )
      .min(1)
      .max(100)
      .meta({ description: "One order per seller (1–100)." }),
    success_url: url,
    cancel_url: url,
    metadata: paymentMetadata.optional(),
  })
  .superRefine((body, ctx) => {
    body.orders.forEach((order, i) => {
      if (order.currency !== undefined && order.currency !== body.currency) {
        ctx.addIssue({
          code: "custom",
          path: ["orders", i, "currency"],
          message: `every order must be in ${body.currency}`,
          params: { code: "CURRENCY_MISMATCH" },
        });
      }
    });
  })
  .meta({ id: "CreatePayment" });

export const refundBody = z
  .strictObject({
    payment_order_id: z.string().max(255).optional().meta({
      description: "The order to refund; may be left out when the payment has one order.",
    }),
    amount: amountSchema.optional().meta({ description: "Minor units; default: what is left to refund." }),
    reason: text(500).optional(),
  })
  .meta({ id: "CreateRefund" });

/** An operator's decision on a payment in review. */
export const reviewDecisionBody = z
  .strictObject({
    decision: z.enum(["approve", "reject"]).meta({
      description:
        "`approve`: the payment's own amount was captured after all (seller credit, journal); " +
        "`reject`: cancel it (what the PSP captured is returned at the PSP).",
    }),
  })
  .meta({ id: "ReviewDecision" });

/** A seller's refund: the order is in the path. */
export const sellerRefundBody = refundBody
  .omit({ payment_order_id: true })
  .meta({ id: "CreateSellerRefund" });

const RFC3339 = "an RFC 3339 date-time with its offset, e.g. 2026-03-01T12:00:00Z";
/** A date-time a caller reports (RFC 3339, `Z` or an offset), out to core as a `Date`. */
const reportedAt = (description: string) =>
  z.iso
    .datetime({ offset: true, error: RFC3339 })
    .transform((value) => new Date(value))
    .optional()
    .meta({ description: `${description} (${RFC3339}); not in the future, not before the payment.` });

/** A fulfilment report: when the seller shipped and/or the buyer received the order. */
export const fulfilmentBody = z
  .strictObject({
    shipped_at: reportedAt("When the seller shipped the order"),
    delivered_at: reportedAt("When the order reached the buyer; not before `shipped_at`"),
  })
  .meta({ id: "Fulfilment" });

/** Path ids: anything else cannot exist, so it is answered 404 like an unknown id. */
export const pathId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/);

const limit = (max: number) =>
  z
    .string()
    .regex(/^\d{1,4}$/, "an integer")
    .transform(Number)
    .pipe(z.int().min(1).max(max))
    .optional();

export const eventsQuery = z.strictObject({ limit: limit(100), starting_after: pathId.optional() });
export const searchQuery = z.strictObject({
  buyer_id: id.optional(),
  status: z.enum(PAYMENT_STATUSES).optional(),
  limit: limit(100),
  starting_after: pathId.optional(),
});
export const disputesQuery = z.strictObject({
  status: z.enum(DISPUTE_STATUSES).optional(),
  limit: limit(100),
  starting_after: pathId.optional(),
});
export const deadLettersQuery = z.strictObject({
  type: z.string().max(128).optional(),
  limit: limit(500),
});

/** A seller's wallet history: journal ids page on (`starting_after`), one currency if asked. */
export const transactionsQuery = z.strictObject({
  limit: limit(100),
  starting_after: pathId.optional(),
  currency: currency.optional(),
});
export const payoutsQuery = z.strictObject({
  status: z.enum(PAYOUT_STATUSES).optional(),
  limit: limit(100),
  starting_after: pathId.optional(),
});

/** The operator pays one seller now: everything available, per currency (or only `currency`). */
export const payoutRequestBody = z
  .strictObject({
    seller_id: id,
    currency: currency.optional().meta({ description: "Only this wallet currency (default: each)." }),
  })
  .meta({ id: "CreatePayout" });
/** A seller asks to be paid now (the seller is in the path). */
export const sellerPayoutRequestBody = payoutRequestBody
  .omit({ seller_id: true })
  .meta({ id: "CreateSellerPayout" });

export const payoutScheduleBody = z
  .strictObject({
    interval: z.enum(["manual", "daily", "weekly"]).meta({
      description:
        "`manual`: only on request; `daily`: every day at 00:00 UTC; `weekly`: every Monday at 00:00 UTC.",
    }),
    payout_currency: currency.nullable().optional().meta({
      description:
        "The currency the seller is paid in (converted at payout); null: each wallet currency in itself; absent: unchanged.",
    }),
  })
  .meta({ id: "PayoutScheduleInput" });

// Responses --------------------------------------------------------------------------------------

const money = z.string().regex(/^\d+$/).meta({ description: "Minor units as a decimal string." });
const timestamp = z.iso.datetime();

export const nextActionSchema = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("redirect_to_psp"), url: z.string() }),
    z.object({ type: z.literal("wait"), message: z.string() }),
    z.object({ type: z.literal("retry_payment"), message: z.string() }),
    z.object({ type: z.literal("none") }),
  ])
  .meta({ id: "NextAction", description: "What the buyer must do next." });

export const refundSchema = z
  .object({
    id: z.string(),
    object: z.literal("refund"),
    payment_id: z.string(),
    payment_order_id: z.string(),
    amount: money,
    currency: z.string(),
    status: z.enum(["pending", "succeeded", "failed"]),
    failure_reason: z.string().nullable(),
    origin: z.enum(["settlekit", "external"]).meta({
      description:
        "Who made the refund: settlekit (through this API), or external (at the PSP directly, e.g. the Stripe Dashboard, learnt from its webhook).",
    }),
    psp_refund_reference: z.string().nullable().meta({
      description: "The PSP's id of the refund, once known (shared by an external refund's orders).",
    }),
    created_at: timestamp,
  })
  .meta({ id: "Refund" });

export const paymentSchema = z
  .object({
    id: z.string(),
    object: z.literal("payment"),
    status: z.enum(PAYMENT_STATUSES),
    buyer_id: z.string(),
    currency: z.string(),
    amount: money,
    refunded_amount: money,
    method: z.enum(PAYMENT_METHODS),
    psp: z.string(),
    redirect_url: z.string().nullable().meta({ description: "The PSP's hosted payment page." }),
    failure_reason: z.string().nullable(),
    next_action: nextActionSchema,
    metadata: z.record(z.string(), z.string()),
    orders: z.array(
      z.object({
        id: z.string(),
        seller_id: z.string(),
        amount: money,
        description: z.string().nullable().meta({ description: "The order's description, as sent." }),
        status: z.string(),
        refund_status: z.string(),
        refunded_amount: money,
        failure_reason: z.string().nullable(),
      }),
    ),
    refunds: z.array(
      refundSchema.pick({
        id: true,
        payment_order_id: true,
        amount: true,
        status: true,
        failure_reason: true,
        origin: true,
      }),
    ),
    review: z
      .object({
        reason: z.enum(["amount_mismatch", "currency_mismatch", "amount_not_reported"]),
        reported_amount: z.string().nullable(),
        reported_currency: z.string().nullable(),
      })
      .nullable()
      .meta({
        description:
          "Set when the PSP reported another amount or currency than the payment's (status requires_review): what it reported.",
      }),
    created_at: timestamp,
    updated_at: timestamp,
    expires_at: timestamp.nullable(),
    estimated_delivery_at: timestamp
      .nullable()
      .meta({ description: "The host's delivery estimate, fixed when the payment succeeded." }),
  })
  .meta({ id: "Payment" });

export const paymentOrderSchema = z
  .object({
    id: z.string(),
    object: z.literal("payment_order"),
    payment_id: z.string(),
    buyer_id: z.string(),
    seller_id: z.string(),
    currency: z.string(),
    amount: money,
    description: z.string().nullable(),
    status: z.string(),
    refund_status: z.string(),
    refunded_amount: money,
    failure_reason: z.string().nullable(),
    fulfilled_at: timestamp.nullable(),
    shipped_at: timestamp.nullable(),
    delivered_at: timestamp.nullable(),
    available_at: timestamp.nullable().meta({
      description:
        "When the seller's share becomes available for payout (the end of the payout hold); null while the hold waits for a delivery date.",
    }),
    released_at: timestamp
      .nullable()
      .meta({ description: "When the hold ended and the share, less fees, became available." }),
    paid_out_at: timestamp.nullable(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: "PaymentOrder" });

const list = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ object: z.literal("list"), data: z.array(item), has_more: z.boolean() }).meta({ id: name });

export const eventListSchema = list(
  z.object({
    id: z.string(),
    object: z.literal("event"),
    type: z.string().meta({ example: "payment.succeeded" }),
    created_at: timestamp,
    data: z.record(z.string(), z.unknown()),
  }),
  "EventList",
);

export const paymentSummaryListSchema = list(
  paymentSchema.pick({
    id: true,
    object: true,
    status: true,
    buyer_id: true,
    currency: true,
    amount: true,
    refunded_amount: true,
    method: true,
    psp: true,
    failure_reason: true,
    created_at: true,
    updated_at: true,
  }),
  "PaymentSummaryList",
);

export const disputeSchema = z
  .object({
    id: z.string(),
    object: z.literal("dispute"),
    payment_id: z.string().meta({ description: "The payment disputed." }),
    psp: z.string(),
    psp_dispute_reference: z.string().meta({ description: "The PSP's id of the dispute (Stripe du_…)." }),
    psp_reference: z.string().meta({ description: "The payment attempt disputed, as the PSP knows it." }),
    status: z.enum(DISPUTE_STATUSES),
    reason: z.string().nullable().meta({ description: "The buyer's bank's reason, in the PSP's words." }),
    amount: money,
    currency: z.string(),
    amount_withdrawn: money,
    amount_reinstated: money,
    fee: money.meta({ description: "The PSP's dispute fee, withdrawn with the amount." }),
    fee_returned: money,
    fee_bearer: z.enum(["seller", "platform"]),
    evidence_due_by: timestamp.nullable().meta({ description: "When the evidence must reach the PSP." }),
    funds_withdrawn_at: timestamp.nullable(),
    funds_reinstated_at: timestamp.nullable(),
    orders: z.array(
      z.object({ payment_order_id: z.string(), seller_id: z.string(), amount: money, fee: money }),
    ),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: "Dispute" });
export const disputeListSchema = list(disputeSchema, "DisputeList");

export const deadLetterSchema = z
  .object({
    id: z.string(),
    object: z.literal("job"),
    type: z.string(),
    status: z.enum(["queued", "running", "succeeded", "dead"]),
    attempts: z.int(),
    max_attempts: z.int(),
    last_error: z.string().nullable(),
    payload: z.unknown(),
    history: z.array(z.record(z.string(), z.unknown())),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: "Job" });
export const deadLetterListSchema = list(deadLetterSchema, "JobList");

export const paymentAttemptSchema = z
  .object({
    object: z.literal("payment_attempt"),
    attempt: z.int(),
    psp: z.string(),
    psp_reference: z.string(),
    amount: money,
    currency: z.string(),
    status: z.enum(["requires_payment", "processing", "succeeded", "failed", "canceled", "expired"]),
    closed_at: timestamp.nullable(),
    captured_amount: money.nullable(),
    captured_currency: z.string().nullable(),
    unowned_capture: z
      .object({
        reason: z.enum(["superseded", "after_expiry", "after_cancel", "review_rejected"]),
        refund_status: z.enum(["pending", "succeeded", "failed"]).nullable(),
        refund_reference: z.string().nullable(),
      })
      .nullable()
      .meta({
        description:
          "Set when the PSP captured money on this attempt that no payment order owns (another attempt " +
          "paid, or it came after expiry or a rejected review): it is refunded automatically.",
      }),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: "PaymentAttempt" });
export const paymentAttemptListSchema = list(paymentAttemptSchema, "PaymentAttemptList");

export const webhookResultSchema = z
  .object({ received: z.int(), duplicates: z.int(), deferred: z.int() })
  .meta({ id: "WebhookResult" });

export const errorSchema = z
  .object({
    error: z.object({
      type: z.string().meta({ example: "invalid_request_error" }),
      code: z.string().meta({ example: "validation_failed" }),
      message: z.string(),
      param: z.string().optional().meta({ description: "The field at fault, dotted: orders.1.amount." }),
      request_id: z.string(),
    }),
  })
  .meta({ id: "Error" });

/** Signed minor units: balances may be negative (a clawback, a dispute). */
const signedMoney = z
  .string()
  .regex(/^-?\d+$/)
  .meta({ description: "Minor units as a decimal string; negative when the seller owes." });

export const walletSchema = z
  .object({
    object: z.literal("wallet"),
    seller_id: z.string(),
    balances: z.array(
      z.object({
        currency: z.string(),
        pending: signedMoney.meta({ description: "Paid by buyers, not available yet." }),
        pending_releases: z
          .array(
            z.object({
              payment_order_id: z.string(),
              amount: money,
              available_at: timestamp.nullable(),
            }),
          )
          .optional()
          .meta({ description: "Fulfilled orders in their hold, with the date each becomes available." }),
        available: signedMoney.meta({
          description: "Fulfilled, fees deducted, not paid out; negative after a clawback.",
        }),
        held: signedMoney.meta({ description: "The seller's share of open disputes." }),
        reserved: signedMoney.meta({ description: "In payouts the PSP has not paid yet (in flight)." }),
        paid_out: signedMoney.meta({ description: "Sent by paid payouts, less what the PSP took back." }),
        payout_notice: z
          .object({ payout_id: z.string(), code: z.string(), message: z.string() })
          .optional()
          .meta({
            description:
              "The latest payout of this currency failed or was taken back: which one and why, for the seller.",
          }),
      }),
    ),
  })
  .meta({ id: "Wallet" });

export const walletTransactionSchema = z
  .object({
    id: z.string().meta({ description: "The journal's id (`starting_after` pages on from it)." }),
    object: z.literal("wallet_transaction"),
    type: z.enum([
      "sale",
      "fee",
      "refund",
      "clawback",
      "payout",
      "payout_released",
      "reversal",
      "dispute",
      "adjustment",
    ]),
    journal_reference: z.string(),
    currency: z.string(),
    pending: signedMoney,
    available: signedMoney,
    reserved: signedMoney,
    held: signedMoney,
    payment_id: z.string().nullable(),
    payment_order_id: z.string().nullable(),
    payout_id: z.string().nullable(),
    created_at: timestamp,
  })
  .meta({
    id: "WalletTransaction",
    description: "One journal and the signed change it made to each balance.",
  });
export const walletTransactionListSchema = list(walletTransactionSchema, "WalletTransactionList");

export const payoutSchema = z
  .object({
    id: z.string(),
    object: z.literal("payout"),
    seller_id: z.string(),
    psp: z.string(),
    status: z.enum(PAYOUT_STATUSES),
    trigger: z.enum(["scheduled", "manual"]),
    amount: money.meta({ description: "What the seller receives, in `currency`." }),
    currency: z.string(),
    source_amount: money.meta({
      description: "What the wallet gave, in `source_currency` (the lines' sum).",
    }),
    source_currency: z.string(),
    fx: z
      .object({
        rate_id: z.string(),
        source: z.string(),
        rate: z.string(),
        spread_bps: z.int(),
        converted_amount: money,
        spread_amount: money,
      })
      .nullable()
      .meta({ description: "The rate locked at reservation, when the seller is paid in another currency." }),
    psp_payout_reference: z.string().nullable(),
    attempts: z.int(),
    failure_code: z.string().nullable(),
    failure_message: z
      .string()
      .nullable()
      .meta({ description: "Why it failed or was taken back, in words for the seller." }),
    amount_reversed: money,
    created_at: timestamp,
    paid_at: timestamp.nullable(),
    failed_at: timestamp.nullable(),
  })
  .meta({ id: "Payout" });
export const payoutListSchema = list(payoutSchema, "PayoutList");

export const payoutLineSchema = z
  .object({
    object: z.literal("payout_line"),
    journal_reference: z.string(),
    kind: z.string(),
    amount: signedMoney,
    currency: z.string(),
    posted_at: timestamp,
  })
  .meta({ id: "PayoutLine", description: "One journal a payout pays (signed: a clawback is negative)." });

export const payoutDetailsSchema = payoutSchema
  .extend({ lines: z.array(payoutLineSchema).meta({ description: "They sum to `source_amount`." }) })
  .meta({ id: "PayoutWithLines" });

export const payoutRequestSchema = z
  .object({
    object: z.literal("payout_request"),
    payouts: z.array(payoutSchema),
    skipped: z.array(
      z.object({
        currency: z.string(),
        reason: z.enum(["nothing_available", "negative_balance", "below_minimum"]),
        available: signedMoney,
      }),
    ),
  })
  .meta({ id: "PayoutRequest", description: "The payouts made, and per currency why none was." });

export const payoutScheduleSchema = z
  .object({
    object: z.literal("payout_schedule"),
    seller_id: z.string(),
    interval: z.enum(["manual", "daily", "weekly"]),
    payout_currency: z.string().nullable(),
    next_payout_at: timestamp.nullable(),
    last_skip_reason: z
      .string()
      .nullable()
      .meta({ description: "Why the last scheduled cycle paid nothing." }),
  })
  .meta({ id: "PayoutSchedule" });

export const payoutCycleSchema = z
  .object({
    object: z.literal("payout_cycle"),
    scheduled: z.int().meta({ description: "Sellers whose schedule was due." }),
    jobs: z.int().meta({ description: "Payout jobs run (reserve, send, check)." }),
  })
  .meta({ id: "PayoutCycle" });

// ---------------------------------------------------------------------------------------------
// Reconciliation (operator)

const RECONCILIATION_FORMATS = ["sandbox_csv", "stripe_itemized_csv", "mapped_csv"] as const;
const RECORD_TYPES = [
  "charge",
  "refund",
  "payout",
  "bank_payout",
  "fee",
  "dispute",
  "adjustment",
  "other",
] as const;

/** The UTC offset of an ISO date-time in minutes (`+02:00` → 120; `Z` or none → 0). */
const offsetMinutes = (value: string): number => {
  const match = /([+-])(\d{2}):(\d{2})$/.exec(value.length > 10 ? value : "");
  return match ? (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 0;
};

/** An instant or a UTC date (`2026-12-01` is its midnight UTC). */
const instant = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2}))?$/, "an ISO date or date-time")
  .transform((value, ctx) => {
    const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
    // `Date` rolls 2026-02-30 over into March: a day that does not round-trip does not exist.
    const day = value.slice(0, 10);
    const local = Number.isNaN(date.getTime())
      ? ""
      : new Date(date.getTime() + offsetMinutes(value) * 60_000).toISOString().slice(0, 10);
    if (local !== day || Number(value.slice(11, 13) || 0) > 23) {
      ctx.addIssue({ code: "custom", message: "not a real date" });
      return z.NEVER;
    }
    return date;
  });

const column = z.string().min(1).max(128);

/** Columns of a `mapped_csv` file (snake_case names of core's `CsvColumnMapping`). */
export const columnMapping = z.strictObject({
  record_id: column,
  amount: column,
  currency: column,
  created_at: column,
  type: column.optional(),
  type_values: z.record(z.string().max(128), z.enum(RECORD_TYPES)).optional(),
  default_type: z.enum(RECORD_TYPES).optional(),
  fee: column.optional(),
  net: column.optional(),
  payment_id: column.optional(),
  psp_reference: column.optional(),
  refund_reference: column.optional(),
  payout_reference: column.optional(),
  bank_payout_reference: column.optional(),
  amounts: z.enum(["minor", "major"]).optional(),
});

/** `?mapping=` is JSON (URL-encoded) of {@link columnMapping}. */
const mappingParam = z
  .string()
  .max(8192)
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "JSON of the column mapping" });
      return z.NEVER;
    }
  })
  .pipe(columnMapping);

/** The settlement file's upload: what it is, for which PSP and period; the body is the file. */
export const reconciliationUploadQuery = z
  .strictObject({
    provider: pathId.meta({ description: "The PSP's id (`sandbox`, `stripe`…)." }),
    format: z.enum(RECONCILIATION_FORMATS),
    period_from: instant.meta({ description: "Start of the settlement period (inclusive)." }),
    period_to: instant.meta({
      description: "End of the settlement period (exclusive), after `period_from`.",
    }),
    mapping: mappingParam.optional().meta({ description: "`mapped_csv` only: JSON of the column mapping." }),
  })
  .superRefine((query, ctx) => {
    if (query.format === "mapped_csv" && !query.mapping) {
      ctx.addIssue({ code: "custom", path: ["mapping"], message: "mapped_csv needs a column mapping" });
    }
    if (query.format !== "mapped_csv" && query.mapping) {
      ctx.addIssue({ code: "custom", path: ["mapping"], message: "only mapped_csv takes a mapping" });
    }
    if (!(query.period_to > query.period_from)) {
      ctx.addIssue({ code: "custom", path: ["period_to"], message: "period_to must be after period_from" });
    }
  });

export const reconciliationsQuery = z.strictObject({
  provider: pathId.optional(),
  limit: limit(100),
  starting_after: pathId.optional(),
});

export const reconciliationItemsQuery = z.strictObject({
  class: z.enum(RECONCILIATION_CLASSES).optional(),
  limit: limit(500),
  starting_after: z
    .string()
    .regex(/^\d{1,12}$/, "an item id")
    .optional(),
});

const correctingPosting = z.strictObject({
  account: z
    .string()
    .refine(isAccountAddress, {
      message:
        'an account address of 2–6 ":"-separated segments, e.g. "bank:settlement" or "seller:S42:available"',
      params: { code: "INVALID_ACCOUNT" },
    })
    .meta({ example: "bank:settlement" }),
  currency,
  direction: z.enum(["debit", "credit"]),
  amount: amountSchema,
});

/**
 * A correcting journal as the API takes it: the ledger's rules (≥ 2 postings, valid accounts and
 * currencies, positive minor-unit amounts, debits = credits in every currency) are checked here,
 * before anything is written, and again by core.
 */
const correctingJournal = z
  .strictObject({
    reference: z.string().min(1).max(255).optional().meta({
      description:
        "The journal's idempotency reference (default `reconciliation:<run id>:<item id>:correction`).",
    }),
    kind: z.string().min(1).max(64).optional().meta({ description: "Default `reconciliation_correction`." }),
    postings: z.array(correctingPosting).min(2).max(1000),
    metadata: z.record(z.string().min(1).max(64), z.string().max(500)).optional(),
  })
  .superRefine((journal, ctx) => {
    const net = new Map<string, bigint>();
    for (const p of journal.postings) {
      net.set(p.currency, (net.get(p.currency) ?? 0n) + (p.direction === "debit" ? p.amount : -p.amount));
    }
    for (const [currency, difference] of net) {
      if (difference !== 0n) {
        ctx.addIssue({
          code: "custom",
          path: ["postings"],
          message: `debits and credits differ by ${difference} minor units of ${currency}`,
          params: { code: "UNBALANCED_JOURNAL" },
        });
        return;
      }
    }
  })
  .meta({
    id: "CorrectingJournal",
    description:
      "A journal posted with the resolution, in the same transaction (appended; journals are never edited).",
  });

export const resolveItemBody = z
  .strictObject({
    note: z.string().trim().min(1).max(2000),
    journal: correctingJournal.optional(),
  })
  .meta({ id: "ReconciliationResolution" });

const nullableMoney = z
  .string()
  .regex(/^-?\d+$/)
  .nullable();

export const reconciliationSchema = z
  .object({
    id: z.string(),
    object: z.literal("reconciliation"),
    psp: z.string(),
    period_from: timestamp,
    period_to: timestamp,
    source: z.enum(["psp", ...RECONCILIATION_FORMATS]),
    source_checksum: z.string().nullable(),
    status: z.enum(["running", "completed", "superseded"]),
    supersedes: z.string().nullable(),
    superseded_by: z.string().nullable(),
    record_count: z.int(),
    bank_line_count: z.int(),
    discrepancy_count: z.int(),
    anomaly: z.enum(["empty_source", "nothing_matched"]).nullable(),
    totals: z.array(
      z.object({
        class: z.enum(RECONCILIATION_CLASSES),
        currency: z.string(),
        count: z.int(),
        amount: signedMoney,
      }),
    ),
    created_at: timestamp,
    completed_at: timestamp.nullable(),
  })
  .meta({ id: "Reconciliation" });

export const reconciliationItemSchema = z
  .object({
    object: z.literal("reconciliation_item"),
    reconciliation_id: z.string(),
    id: z.int().meta({ description: "The item's number within its run (file order)." }),
    class: z.enum(RECONCILIATION_CLASSES),
    leg: z.enum(["psp_ledger", "payout_sum", "psp_bank"]),
    line: z.int().nullable().meta({ description: "The file's line (1 = the header), for file records." }),
    record_id: z.string().nullable(),
    record_type: z.string().nullable(),
    reference: z.string().nullable(),
    currency: z.string().nullable(),
    amount: signedMoney.nullable(),
    expected_amount: signedMoney.nullable(),
    expected_currency: z.string().nullable(),
    fee: nullableMoney,
    expected_fee: nullableMoney,
    payment_id: z.string().nullable(),
    refund_id: z.string().nullable(),
    payout_id: z.string().nullable(),
    bank_payout_reference: z.string().nullable(),
    journal_reference: z.string().nullable(),
    booking_reference: z.string().nullable(),
    occurred_at: timestamp.nullable(),
    message: z.string(),
    resolution: z
      .object({
        resolved_by: z.string(),
        note: z.string(),
        journal_reference: z.string().nullable(),
        resolved_at: timestamp,
      })
      .nullable(),
  })
  .meta({ id: "ReconciliationItem" });

export const reconciliationListSchema = list(reconciliationSchema, "ReconciliationList");

export const reconciliationDetailsSchema = reconciliationSchema
  .extend({
    items: z.object({
      object: z.literal("list"),
      data: z.array(reconciliationItemSchema),
      has_more: z.boolean(),
      next_cursor: z.string().nullable().meta({ description: "`starting_after` of the next page." }),
    }),
  })
  .meta({ id: "ReconciliationDetails" });
