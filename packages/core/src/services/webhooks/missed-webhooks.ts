import type { Logger } from "../../ports/logger.js";

/** How long one warning about a PSP's missing webhooks covers (one hour). */
export const MISSED_WEBHOOK_WINDOW_MS = 3_600_000;

/**
 * Counts, per PSP, the payments the sweeper had to settle by polling because their webhook never
 * arrived, and warns about it at most once per PSP per window: a wrong webhook URL or secret
 * otherwise only shows as payments that take 15 minutes to complete. The counts live in this
 * process (each worker process warns on its own).
 */
export interface MissedWebhookMonitor {
  /** The sweeper settled `paymentIds` of `pspId` by polling at `now`. */
  record(pspId: string, paymentIds: readonly string[], now: Date): void;
}

export function missedWebhookMonitor(
  logger: Logger,
  windowMs = MISSED_WEBHOOK_WINDOW_MS,
): MissedWebhookMonitor {
  const seen = new Map<string, { at: number[]; warnedAt?: number }>();
  return {
    record(pspId, paymentIds, now) {
      if (paymentIds.length === 0) return;
      const t = now.getTime();
      const psp = seen.get(pspId) ?? { at: [] };
      seen.set(pspId, psp);
      psp.at = psp.at.filter((x) => x > t - windowMs);
      for (const _ of paymentIds) psp.at.push(t);
      if (psp.warnedAt !== undefined && t - psp.warnedAt < windowMs) return;
      psp.warnedAt = t;
      const n = psp.at.length;
      logger.warn(
        `no webhook received for ${n} payment${n === 1 ? "" : "s"} from ${pspId} in the last hour: check the webhook URL and secret`,
        { psp: pspId, payments: n, paymentIds: paymentIds.slice(0, 10) },
      );
    },
  };
}
