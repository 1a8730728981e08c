import type { Clock } from "@settlekit/core";
import { systemClock } from "@settlekit/core";
import type { SquareClient } from "square";

/** How `squareProvider` is configured (the host builds the `SquareClient`). */
export interface SquareProviderOptions {
  /** `new SquareClient({ token: process.env.SQUARE_ACCESS_TOKEN, environment })`; set `maxRetries: 0` to leave retries to settlekit. */
  readonly client: SquareClient;
  /** The seller location payments are taken at (`SQUARE_LOCATION_ID`). */
  readonly locationId: string;
  /**
   * The location's currency, ISO 4217 (Square takes payments in it only). A payment in any other
   * currency is refused before any call to Square.
   */
  readonly currency: string;
  /**
   * The webhook subscription's signature key (`SQUARE_WEBHOOK_SIGNATURE_KEY`); several during a
   * rotation (the old and the new are both accepted).
   */
  readonly webhookSignatureKey: string | readonly string[];
  /**
   * The notification URL exactly as configured on the webhook subscription: Square signs it with
   * the body, so a different scheme, host, path or trailing slash fails every signature.
   */
  readonly notificationUrl: string;
  readonly clock?: Clock;
}

export interface ResolvedSquareOptions {
  readonly client: SquareClient;
  readonly locationId: string;
  readonly currency: string;
  readonly signatureKeys: readonly string[];
  readonly notificationUrl: string;
  readonly clock: Clock;
}

/** Checks the options once, at construction: a missing key or URL fails here, not on the first webhook. */
export function resolveOptions(options: SquareProviderOptions): ResolvedSquareOptions {
  if (!options.client) throw new TypeError("squareProvider: `client` (a SquareClient) is required.");
  if (!options.locationId)
    throw new TypeError("squareProvider: `locationId` (SQUARE_LOCATION_ID) is required.");
  if (!/^[A-Z]{3}$/.test(options.currency ?? "")) {
    throw new TypeError("squareProvider: `currency` must be the location's ISO 4217 code, e.g. USD.");
  }
  const keys =
    typeof options.webhookSignatureKey === "string"
      ? [options.webhookSignatureKey]
      : [...(options.webhookSignatureKey ?? [])];
  if (keys.length === 0 || keys.some((k) => typeof k !== "string" || k === "")) {
    throw new TypeError("squareProvider: `webhookSignatureKey` (SQUARE_WEBHOOK_SIGNATURE_KEY) is required.");
  }
  let url: URL;
  try {
    url = new URL(options.notificationUrl);
  } catch {
    throw new TypeError(
      `squareProvider: \`notificationUrl\` must be the absolute URL of the webhook subscription (got ${JSON.stringify(options.notificationUrl)}).`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TypeError("squareProvider: `notificationUrl` must be an http(s) URL.");
  }
  return {
    client: options.client,
    locationId: options.locationId,
    currency: options.currency,
    signatureKeys: keys,
    notificationUrl: options.notificationUrl,
    clock: options.clock ?? systemClock,
  };
}
