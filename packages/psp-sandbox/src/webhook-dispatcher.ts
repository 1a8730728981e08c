import type { SandboxDelivery, SandboxEvent } from "./events.js";
import type { FaultState, ReleaseOrder } from "./faults.js";
import type { ResolvedSandboxOptions } from "./options.js";
import type { Scheduler } from "./scheduler.js";
import { SANDBOX_SIGNATURE_HEADER, signSandboxWebhook } from "./signature.js";
import { WebhookDeliveryError } from "./webhook-delivery-error.js";

interface Outgoing {
  readonly event: SandboxEvent;
  readonly attempt: number;
}

/**
 * Sends events to the host. By default deliveries to `webhookUrl` go out one at a time, in order,
 * so "out of order" only happens when a fault asks for it (hold and reverse, delay, retries), and
 * tests can say exactly what arrived when; with `webhookConcurrency` > 1 up to that many POSTs are
 * in flight at once, taken from the queue in order (as a real PSP delivers: concurrently, with no
 * ordering promise). Each attempt is signed afresh at send time, as
 * Stripe does, so a retry hours later still passes the receiver's tolerance window. A delivery
 * whose last attempt failed is logged at error level and reported to `onError`.
 */
export class WebhookDispatcher {
  private readonly log: SandboxDelivery[] = [];
  private held: SandboxEvent[] = [];
  private readonly queue: Outgoing[] = [];
  /** The running pumps; each POSTs one event at a time from the shared queue. */
  private readonly pumps = new Set<Promise<void>>();

  constructor(
    private readonly options: ResolvedSandboxOptions,
    private readonly scheduler: Scheduler,
    private readonly faults: FaultState,
  ) {}

  /** Hands a new event to delivery, applying the pending faults for one event. */
  dispatch(event: SandboxEvent): void {
    const { drop, duplicate, delayMs } = this.faults.takeEventFaults();
    if (drop) return;
    for (let copy = duplicate ? 2 : 1; copy > 0; copy--) {
      if (this.faults.holding) this.held.push(event);
      else if (delayMs !== undefined) this.scheduler.after(delayMs, () => this.send({ event, attempt: 1 }));
      else this.send({ event, attempt: 1 });
    }
  }

  /** Sends everything held, in the order asked for. */
  release(order: ReleaseOrder): void {
    const batch = this.held;
    this.held = [];
    if (order === "reverse") batch.reverse();
    for (const event of batch) this.send({ event, attempt: 1 });
  }

  deliveries(): SandboxDelivery[] {
    return [...this.log];
  }

  /** Resolves once no POST is queued or in flight (scheduled retries and delays wait for their time). */
  async idle(): Promise<void> {
    while (this.pumps.size > 0) await Promise.all(this.pumps);
  }

  private signedHeaders(rawBody: string, at: Date): Record<string, string> {
    return {
      "content-type": "application/json",
      "user-agent": "settlekit-psp-sandbox/0.1.0",
      [SANDBOX_SIGNATURE_HEADER.toLowerCase()]: signSandboxWebhook(
        this.options.webhookSecret,
        rawBody,
        Math.floor(at.getTime() / 1000),
      ),
    };
  }

  private send(outgoing: Outgoing): void {
    if (this.options.webhookUrl === undefined) {
      const sentAt = this.options.clock.now();
      const { event, attempt } = outgoing;
      const headers = this.signedHeaders(event.rawBody, sentAt);
      this.log.push({
        eventId: event.id,
        type: event.type,
        attempt,
        rawBody: event.rawBody,
        headers,
        sentAt,
        outcome: "recorded",
      });
      return;
    }
    this.queue.push(outgoing);
    if (this.pumps.size < this.options.webhookConcurrency) {
      const pump: Promise<void> = this.pump().finally(() => this.pumps.delete(pump));
      this.pumps.add(pump);
    }
  }

  private async pump(): Promise<void> {
    // A pump stops in the same synchronous step that saw the queue empty, so a later send() starts one.
    for (let next = this.queue.shift(); next; next = this.queue.shift())
      await this.post(next, this.options.webhookUrl!);
  }

  private async post({ event, attempt }: Outgoing, url: string): Promise<void> {
    const sentAt = this.options.clock.now();
    const headers = this.signedHeaders(event.rawBody, sentAt);
    const base = { eventId: event.id, type: event.type, attempt, rawBody: event.rawBody, headers, sentAt };
    let failure: { status?: number; error?: string };
    try {
      const response = await this.options.fetch(url, {
        method: "POST",
        headers,
        body: event.rawBody,
        redirect: "manual",
        signal: AbortSignal.timeout(this.options.webhookTimeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined); // drain, so the connection can be reused
      if (response.status >= 200 && response.status < 300) {
        this.log.push({ ...base, outcome: "delivered", status: response.status });
        return;
      }
      failure = { status: response.status };
    } catch (error) {
      failure = { error: error instanceof Error ? error.message : String(error) };
    }
    const { attempts, baseMs } = this.options.webhookRetry;
    if (attempt >= attempts) {
      const last: SandboxDelivery = { ...base, outcome: "failed", ...failure };
      this.log.push(last);
      const error = new WebhookDeliveryError(url, last);
      this.options.logger.error(`[settlekit/psp-sandbox] ${error.message}`);
      this.options.onError(error);
      return;
    }
    const retryAt = new Date(sentAt.getTime() + baseMs * 2 ** (attempt - 1));
    this.log.push({ ...base, outcome: "failed", ...failure, retryAt });
    this.scheduler.at(retryAt, () => this.send({ event, attempt: attempt + 1 }));
  }
}
