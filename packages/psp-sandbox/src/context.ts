import type { EventSubject, SandboxEvent, SandboxEventType } from "./events.js";
import { eventBody } from "./events.js";
import { FaultState } from "./faults.js";
import type { ResolvedSandboxOptions } from "./options.js";
import type { SandboxPayment, SandboxRefund } from "./records.js";
import { SandboxState } from "./records.js";
import { Scheduler } from "./scheduler.js";
import { SANDBOX_SIGNATURE_HEADER, signSandboxWebhook } from "./signature.js";
import { WebhookDispatcher } from "./webhook-dispatcher.js";

/**
 * Everything one sandbox instance shares between its parts: options, in-memory state, the
 * scheduler, fault state, the event log and the webhook dispatcher. One per `sandboxProvider()`.
 */
export interface SandboxContext {
  readonly options: ResolvedSandboxOptions;
  readonly state: SandboxState;
  readonly scheduler: Scheduler;
  readonly faults: FaultState;
  readonly dispatcher: WebhookDispatcher;
  /** Every event emitted, in order (dropped and held ones included). */
  readonly events: SandboxEvent[];
  /**
   * Records a status change as an event and hands it to delivery. `payment` is absent only for
   * `payout.*` events, whose subject is the payout.
   */
  emit(
    type: SandboxEventType,
    payment: SandboxPayment | undefined,
    subject?: SandboxRefund | EventSubject,
  ): SandboxEvent;
  now(): Date;
}

export function createContext(options: ResolvedSandboxOptions): SandboxContext {
  const scheduler = new Scheduler(options.clock, options.autoTick, options.onError);
  const faults = new FaultState();
  const dispatcher = new WebhookDispatcher(options, scheduler, faults);
  const events: SandboxEvent[] = [];
  return {
    options,
    state: new SandboxState(),
    scheduler,
    faults,
    dispatcher,
    events,
    now: () => options.clock.now(),
    emit(type, payment, subject) {
      const created = options.clock.now();
      const about: EventSubject =
        subject === undefined ? {} : "refundReference" in subject ? { refund: subject } : subject;
      const { id, rawBody } = eventBody(type, created, payment, about);
      const signature = signSandboxWebhook(
        options.webhookSecret,
        rawBody,
        Math.floor(created.getTime() / 1000),
      );
      const event: SandboxEvent = {
        id,
        type,
        created,
        rawBody,
        headers: { "content-type": "application/json", [SANDBOX_SIGNATURE_HEADER.toLowerCase()]: signature },
      };
      events.push(event);
      dispatcher.dispatch(event);
      return event;
    },
  };
}
