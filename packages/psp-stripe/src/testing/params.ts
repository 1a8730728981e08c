import { invalidRequest } from "./errors.js";
import type { Form, FormValue } from "./form.js";

/**
 * The request parameters the fake accepts, per endpoint, nested as Stripe nests them: `true` is a
 * leaf (or `metadata`, checked by {@link metadataOf}), an object is a sub-hash, a one-element
 * array is a list of that sub-hash. Anything else is refused as Stripe refuses it: 400
 * `parameter_unknown`, `param` naming the full path (`payment_intent_data[foo]`).
 *
 * Every name here is declared in the pinned stripe-node's types (`test/sdk-params.test.ts` reads
 * them from `node_modules/stripe`): the fake may know less than Stripe, never more.
 */
export interface ParamSpec {
  readonly [param: string]: true | ParamSpec | readonly [ParamSpec];
}

const METADATA = true;

export const SESSION_CREATE: ParamSpec = {
  allowed_payment_method_types: true,
  cancel_url: true,
  client_reference_id: true,
  customer_creation: true,
  expand: true,
  expires_at: true,
  line_items: [
    {
      quantity: true,
      price_data: {
        currency: true,
        unit_amount: true,
        product_data: { name: true, description: true, metadata: METADATA },
      },
    },
  ],
  metadata: METADATA,
  mode: true,
  // (`payment_method_types` is gone from this API version: `createSession` refuses it with its own code.)
  payment_intent_data: { description: true, metadata: METADATA, transfer_group: true },
  payment_method_options: {
    customer_balance: {
      funding_type: true,
      bank_transfer: { type: true, eu_bank_transfer: { country: true } },
    },
  },
  success_url: true,
};

export const SESSION_EXPIRE: ParamSpec = { expand: true };

export const REFUND_CREATE: ParamSpec = {
  amount: true,
  expand: true,
  instructions_email: true,
  metadata: METADATA,
  payment_intent: true,
  reason: true,
};

export const TRANSFER_CREATE: ParamSpec = {
  amount: true,
  currency: true,
  description: true,
  destination: true,
  expand: true,
  metadata: METADATA,
  source_transaction: true,
  transfer_group: true,
};

export const TRANSFER_REVERSAL_CREATE: ParamSpec = {
  amount: true,
  description: true,
  expand: true,
  metadata: METADATA,
  refund_application_fee: true,
};

const unknown = (path: string) =>
  invalidRequest(`Received unknown parameter: ${path}`, "parameter_unknown", path);

const isHash = (value: FormValue | undefined): value is Form =>
  value !== undefined && typeof value === "object" && !Array.isArray(value);

/** Refuses the first parameter of `form` that `spec` does not declare (depth first, in order). */
export function checkParams(spec: ParamSpec, form: Form, prefix = ""): void {
  for (const [key, value] of Object.entries(form)) {
    const path = prefix === "" ? key : `${prefix}[${key}]`;
    const rule = spec[key];
    if (rule === undefined) throw unknown(path);
    if (rule === true) continue;
    if (Array.isArray(rule)) {
      const items = Array.isArray(value) ? value : isHash(value) ? Object.values(value) : [];
      items.forEach((item, i) => {
        if (isHash(item)) checkParams(rule[0] as ParamSpec, item, `${path}[${i}]`);
      });
    } else if (isHash(value)) {
      checkParams(rule as ParamSpec, value, path);
    }
  }
}

/** Stripe's metadata limits (https://docs.stripe.com/api/metadata). */
export const METADATA_LIMITS = { keys: 50, keyLength: 40, valueLength: 500 } as const;

/**
 * A `metadata` hash as Stripe checks it: at most 50 keys, each at most 40 characters without `[`
 * or `]` (a bracket in a key arrives as a nested hash on the wire), each value a string of at most
 * 500 characters; an empty string clears it. Stripe's messages, `param` the hash's path.
 */
export function metadataOf(value: FormValue | undefined, param = "metadata"): Record<string, string> {
  if (value === undefined || value === "") return {};
  if (!isHash(value)) throw invalidRequest("Invalid hash", "parameter_invalid", param);
  const entries = Object.entries(value);
  if (entries.length > METADATA_LIMITS.keys) {
    throw invalidRequest(
      `Metadata can have up to ${METADATA_LIMITS.keys} keys, but you've set ${entries.length}.`,
      undefined,
      param,
    );
  }
  const out: Record<string, string> = {};
  for (const [key, val] of entries) {
    if (key.length > METADATA_LIMITS.keyLength || /[[\]]/.test(key) || typeof val !== "string") {
      if (typeof val === "string" || key.length > METADATA_LIMITS.keyLength) {
        throw invalidRequest(
          `Invalid key: ${key} must be a string under ${METADATA_LIMITS.keyLength} characters`,
          undefined,
          param,
        );
      }
      // `metadata[a[b]]=v` decodes as { a: { b: "v" } }: Stripe sees the key `a[b]`.
      throw invalidRequest(
        `Invalid key: ${key}[…]: metadata keys cannot contain \`[\` or \`]\``,
        undefined,
        param,
      );
    }
    if (val.length > METADATA_LIMITS.valueLength) {
      throw invalidRequest(
        `Invalid val: ${val.slice(0, 20)}… must be a string under ${METADATA_LIMITS.valueLength} characters`,
        undefined,
        param,
      );
    }
    out[key] = val;
  }
  return out;
}

/** A string parameter of at most `max` characters (Stripe: `client_reference_id` ≤ 200). */
export function maxLength(value: string | undefined, max: number, param: string): string | undefined {
  if (value !== undefined && value.length > max) {
    throw invalidRequest(
      `Invalid ${param}: must be at most ${max} characters long (got ${value.length}).`,
      undefined,
      param,
    );
  }
  return value;
}
