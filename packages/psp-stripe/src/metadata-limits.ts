import { rejected } from "./errors.js";

/** Stripe's metadata limits (https://docs.stripe.com/api/metadata): 50 keys, keys ≤ 40, values ≤ 500 characters. */
export const STRIPE_METADATA = { maxKeys: 50, maxKeyLength: 40, maxValueLength: 500 } as const;

/**
 * Checks metadata as it will be sent to Stripe (the host's keys and settlekit's own) against
 * Stripe's limits, before any call: Stripe would refuse the whole request with a 400 anyway, and
 * `[` `]` in a key would be read as form-encoding brackets. Refused with a fatal
 * `PSP_REQUEST_REJECTED` (`metadata_invalid`) naming the field (`param`: `metadata` or
 * `metadata.<key>`). Lengths are counted in UTF-16 code units, which is never fewer than
 * characters.
 */
export function checkStripeMetadata(metadata: Readonly<Record<string, unknown>>, param = "metadata"): void {
  const keys = Object.keys(metadata);
  if (keys.length > STRIPE_METADATA.maxKeys) {
    throw rejected(
      `Stripe takes at most ${STRIPE_METADATA.maxKeys} metadata keys; this request has ${keys.length} (settlekit's own included).`,
      param,
      "metadata_invalid",
    );
  }
  for (const key of keys) {
    if (key.length === 0 || key.length > STRIPE_METADATA.maxKeyLength || /[[\]]/.test(key)) {
      throw rejected(
        `Metadata key ${JSON.stringify(key)} is not one Stripe takes: 1–${STRIPE_METADATA.maxKeyLength} characters, no [ or ].`,
        param,
        "metadata_invalid",
      );
    }
    const value = metadata[key];
    if (typeof value !== "string" || value.length > STRIPE_METADATA.maxValueLength) {
      throw rejected(
        `Metadata value of ${JSON.stringify(key)} must be a string of at most ${STRIPE_METADATA.maxValueLength} characters.`,
        `${param}.${key}`,
        "metadata_invalid",
      );
    }
  }
}
