import type {
  IdGenerator,
  ManualClock,
  OutboxEvent,
  PaymentSystem,
  PaymentSystemOptions,
  Store,
} from "@settlekit/core";
import {
  commissionAndLogistics,
  createPaymentSystem,
  manualClock,
  runWorkerPass,
  staticFxRates,
} from "@settlekit/core";
import { memoryStore } from "@settlekit/core/testing";
import type { SandboxProvider } from "@settlekit/psp-sandbox";
import { sandboxProvider, signSandboxWebhook } from "@settlekit/psp-sandbox";
import type { Rng } from "./prng.js";
import type { SideEffectOperation, SimProvider } from "./provider.js";
import { simProvider } from "./provider.js";
import type { PointKind, ProcessStore, WorkerPass, WriteLog } from "./store.js";
import { Crash, crashableStore, isCrash, Mortality, mortalPort, workerPasses } from "./store.js";

/** The fixed bugs a test can bring back (test only, see core's `testOnlyReintroducedBugs`). */
export type ReintroducedBugs = NonNullable<PaymentSystemOptions["testOnlyReintroducedBugs"]>;

export const T0 = new Date("2026-03-01T12:00:00.000Z");
export const WEBHOOK_SECRET = "whsec_simulation";
export const SANDBOX_BASE_URL = "https://psp.sim/sandbox";

/** How one seed's world is built: which store, which PSP behaviour, which timings. */
export interface WorldConfig {
  readonly storeKind: "memory" | "sqlite";
  /** false: a PSP whose pages cannot be closed and outlive the payment (see `simProvider`). */
  readonly canClosePages: boolean;
  readonly bankTransferSettleMs: number;
  readonly backoffBaseMs: number;
  readonly sweepAfterMs: number;
  /** Core's `refundSweepAfterMs` (the simulator derives it from `sweepAfterMs`: 1 min with it, else 1 h; default core's 1 h). */
  readonly refundSweepAfterMs?: number;
  /**
   * Faults the network adds to webhooks: drop (payment events and the events of settlekit's own
   * refunds, the automatic refunds of unowned captures included), duplicate, delay.
   */
  readonly dropRate: number;
  /**
   * A PSP that refunds unowned captures asynchronously: their automatic refunds stay `pending`
   * until the bank settles them (a PSP step, or quiescence), their webhook then as likely lost as
   * any other (`dropRate`).
   */
  readonly holdCaptureRefunds?: boolean;
  readonly duplicateRate: number;
  readonly maxDelayMs: number;
  readonly publisherFailRate: number;
  /** How sellers are paid (fees, holds, FX, minimums, retries); absent: core's defaults, no fees. */
  readonly payouts?: PayoutWorld | undefined;
  /** Who bears a dispute's fee (core's `disputeFees`); absent: core's default, the seller. */
  readonly disputeFees?: "seller" | "platform" | undefined;
  /** How a refund after a payout takes the seller's share back (core's `clawbacks`). */
  readonly clawbacks?: "net_next_payout" | "reverse_payouts" | undefined;
  readonly bugs: ReintroducedBugs | undefined;
  /** Test only: mutations of the simulator's own wrappers, to show the invariants bite (see {@link SimBugs}). */
  readonly simBugs?: SimBugs | undefined;
}

/**
 * Bugs the simulator can put into what core writes, at the store wrapper (core itself has no
 * switch for them): each stands for a bug in a flow the simulation covers, and a test shows
 * the CI seeds find it.
 */
export interface SimBugs {
  /** A dispute's withdrawal is never booked (the journal `dispute:<id>:withdrawn` is dropped). */
  readonly disputeDebitSkipped?: boolean;
  /** A matched settlement record is booked twice (a second journal under another reference). */
  readonly settlementBookedTwice?: boolean;
  /**
   * The job runner ignores lease loss: the lease check a job makes before its PSP side effects
   * (and every renewal while it runs) answers "held" even once another worker took the job over,
   * so a worker woken from a pause acts at the PSP after its lease was lost.
   */
  readonly leaseLossIgnored?: boolean;
}

/**
 * A side effect a job handler caused at the PSP: the job and the lease (worker, attempt) it ran
 * under, the simulated time, whether that lease was still held at the call, and whether the PSP
 * acted anew (false: it answered what it had stored under the key, or did nothing).
 */
export interface JobSideEffect {
  readonly operation: SideEffectOperation;
  readonly what: string;
  readonly jobId: string;
  readonly jobType: string;
  readonly workerId: string;
  readonly attempt: number;
  readonly at: number;
  /** The job's row at the call: who held it, until when, at which attempt. */
  readonly lease: string;
  /**
   * Held: the job still `running`, leased to this worker at this attempt (nobody claimed it since).
   * A lapsed lease nobody took over is still the holder's (the store's `renew` contract).
   */
  readonly held: boolean;
  /** The lease's time had run out at the call (held or not). */
  readonly expired: boolean;
  readonly fresh: boolean;
}

/** A job's process paused (see {@link World.pauseNextJob}). */
export interface Stall {
  /** Resolves with true once a job's side-effect call is held. */
  /** Resolves with the paused job's type once a job's process paused. */
  readonly hit: Promise<string>;
  release(): void;
}

/** The payout side of a seed's world. */
export interface PayoutWorld {
  /** Commission in basis points (a logistics fee of 50 minor units is taken too, when it fits). */
  readonly commissionBps: number;
  /** The payout hold after fulfilment: none, a return window after delivery, or after shipment. */
  readonly hold: "none" | "after-delivery" | "after-shipment";
  /** Whether `fxRates` is configured (then sellers may be paid in another currency). */
  readonly fx: boolean;
  readonly fxSpreadBps: number;
  /** The smallest payout in every currency, minor units (1: none). */
  readonly minimum: number;
  readonly maxAttempts: number;
  readonly checkAfterMs: number;
}

/** Every pair of the simulation's currencies, both ways: a seller may be paid in any of them. */
export const FX_TABLE = {
  "USD/JPY": "157.23",
  "JPY/USD": "0.00636",
  "EUR/JPY": "170.11",
  "JPY/EUR": "0.00588",
  "USD/EUR": "0.9221",
  "EUR/USD": "1.0845",
} as const;

const HOLD_MS = { delivery: 2 * 3_600_000, shipment: 5 * 3_600_000 };

function payoutOptions(p: PayoutWorld | undefined, clock: ManualClock): Partial<PaymentSystemOptions> {
  if (!p) return {};
  const minimum = BigInt(p.minimum);
  return {
    fees: commissionAndLogistics({
      commissionBasisPoints: p.commissionBps,
      logistics: { USD: 50n, EUR: 50n, JPY: 50n },
    }),
    ...(p.hold === "after-delivery"
      ? { payoutHold: { afterDeliveryMs: HOLD_MS.delivery } }
      : p.hold === "after-shipment"
        ? { payoutHold: { afterShipmentMs: HOLD_MS.shipment, afterDeliveryMs: HOLD_MS.delivery } }
        : {}),
    ...(p.fx ? { fxRates: staticFxRates(FX_TABLE, { clock }), fxSpreadBps: p.fxSpreadBps } : {}),
    payoutMinimums: { USD: minimum, EUR: minimum, JPY: minimum },
    payoutMaxAttempts: p.maxAttempts,
    payoutCheckAfterMs: p.checkAfterMs,
  };
}

/** One webhook on its way from the sandbox to settlekit. */
interface InFlight {
  readonly event: string;
  readonly type: string;
  readonly rawBody: string;
  deliverAt: number;
  attempts: number;
  /** Lost on the way (it stays in the sandbox's `events()`: the sweeper must poll for it). */
  readonly drop: boolean;
}

/** One settlekit process: its system on its view of the shared store (it may crash). */
export interface Process {
  readonly number: number;
  readonly store: ProcessStore;
  readonly system: PaymentSystem;
}

/** Everything a published event says, for the per-aggregate order check. */
export interface Published {
  readonly id: string;
  readonly aggregate: string;
  readonly type: string;
}

/**
 * The simulated world of one seed: the real payment system (and its restarts) on one store,
 * the sandbox PSP in-process on the same manual clock, a webhook network that delays,
 * duplicates, reorders and drops, and the record of what was published.
 */
export class World {
  readonly clock: ManualClock;
  readonly sandbox: SandboxProvider;
  readonly provider: SimProvider;
  readonly writes: WriteLog = { jobIds: new Set(), outboxIds: new Set() };
  readonly published: Published[] = [];
  readonly notifications: string[] = [];
  /** Crashes so far, by the kind of await point the process died at. */
  readonly crashes = new Map<PointKind, number>();
  process!: Process;
  /** A system on the shared store that never crashes, for the invariants' reads. */
  readonly observer: PaymentSystem;
  private processes = 0;
  private readonly network: InFlight[] = [];
  private seenEvents = 0;
  /** Refunds whose `refund.succeeded` went out: a `refund.failed` after it is a bounce (see `pump`). */
  private readonly settledRefunds = new Set<string>();
  private readonly aliases = new Map<string, string>();
  private readonly counters = new Map<string, number>();

  private constructor(
    readonly seed: number,
    readonly config: WorldConfig,
    readonly store: Store,
    private readonly rng: Rng,
    private readonly ids: IdGenerator,
    private readonly destroy: () => Promise<void>,
  ) {
    this.clock = manualClock(T0);
    this.sandbox = sandboxProvider({
      baseUrl: SANDBOX_BASE_URL,
      webhookSecret: WEBHOOK_SECRET,
      clock: this.clock,
      autoTick: false,
      bankTransferSettleMs: config.bankTransferSettleMs,
      // Pages of a PSP that cannot close them outlive the payment (24 h) by two days.
      paymentTtlMs: 72 * 3_600_000,
      logger: { error: () => undefined },
      onError: () => undefined,
    });
    this.provider = simProvider(this.sandbox, config.canClosePages, (operation, input, send) => {
      if (operation === "refund" && config.holdCaptureRefunds) this.holdIfCaptureRefund(input);
      return this.guardSideEffect(operation, input, send);
    });
    let n = 0;
    this.observer = createPaymentSystem({
      store,
      providers: [this.provider],
      clock: this.clock,
      ids: { newId: () => `observer-${++n}` },
      logger: { warn: () => undefined, error: () => undefined },
    });
  }

  static async create(seed: number, config: WorldConfig, rng: Rng): Promise<World> {
    let store: Store;
    let destroy: () => Promise<void> = async () => {};
    if (config.storeKind === "sqlite") {
      const [{ default: knex }, { knexStore }] = await Promise.all([
        import("knex"),
        import("@settlekit/store-knex"),
      ]);
      const db = knex({
        client: "better-sqlite3",
        connection: { filename: ":memory:" },
        useNullAsDefault: true,
      });
      const sqlite = knexStore(db);
      await sqlite.migrate();
      store = sqlite;
      destroy = () => db.destroy();
    } else {
      store = memoryStore();
    }
    const prefix = (seed >>> 0).toString(16).padStart(8, "0");
    let n = 0;
    const ids: IdGenerator = { newId: () => `${prefix}-0000-7000-8000-${String(++n).padStart(12, "0")}` };
    const world = new World(seed, config, store, rng, ids, destroy);
    world.start();
    return world;
  }

  /** Starts a settlekit process on the shared store (first start, or a restart after a crash). */
  start(): Process {
    const number = ++this.processes;
    // Every await point of the process's external calls can be where it dies: its store
    // transactions, its PSP calls, its broker and notifier calls.
    const mortality = new Mortality(number, this.crashes);
    const store = crashableStore(this.store, mortality, this.writes, this.config.simBugs);
    const system = createPaymentSystem({
      store,
      providers: [mortalPort(this.provider, mortality, "psp", "psp")],
      clock: this.clock,
      ids: this.ids,
      logger: { warn: () => undefined, error: () => undefined },
      backoff: { baseMs: this.config.backoffBaseMs, maxMs: 10 * 60_000, jitter: 1 },
      sweepAfterMs: this.config.sweepAfterMs,
      ...(this.config.refundSweepAfterMs ? { refundSweepAfterMs: this.config.refundSweepAfterMs } : {}),
      ...payoutOptions(this.config.payouts, this.clock),
      ...(this.config.disputeFees ? { disputeFees: this.config.disputeFees } : {}),
      ...(this.config.clawbacks ? { clawbacks: this.config.clawbacks } : {}),
      notifier: mortalPort(
        {
          notify: async (
            notification: Parameters<NonNullable<PaymentSystemOptions["notifier"]>["notify"]>[0],
          ) => {
            if (this.rng.chance(0.05)) throw new Error("simulated: the mail server is down");
            const about =
              "paymentId" in notification
                ? notification.paymentId
                : "payoutId" in notification
                  ? notification.payoutId
                  : notification.alertId;
            this.notifications.push(`${notification.kind}:${about}`);
          },
        },
        mortality,
        "notify",
        "notifier",
      ),
      publisher: mortalPort(
        {
          publish: async (events: readonly OutboxEvent[]) => {
            if (this.rng.chance(this.config.publisherFailRate))
              throw new Error("simulated: broker unavailable");
            for (const e of events) {
              this.published.push({
                id: e.id,
                aggregate: `${e.aggregateType}:${e.aggregateId}`,
                type: e.type,
              });
            }
          },
        },
        mortality,
        "publish",
        "publisher",
      ),
      ...(this.config.bugs ? { testOnlyReintroducedBugs: this.config.bugs } : {}),
    });
    this.process = { number, store, system };
    return this.process;
  }

  get system(): PaymentSystem {
    return this.process.system;
  }

  /** A stable name for a random PSP reference or event id, so traces are the same for a seed. */
  alias(text: string): string {
    return text.replace(
      /\b(sbx_pay|sbx_re|sbx_po|sbx_prv|sbx_por|sbx_dp|evt)_[0-9a-f]{24}\b/g,
      (ref, kind: string) => {
        let name = this.aliases.get(ref);
        if (!name) {
          const short =
            {
              sbx_pay: "page",
              sbx_re: "re",
              sbx_po: "po",
              sbx_prv: "prv",
              sbx_por: "por",
              sbx_dp: "dp",
              evt: "evt",
            }[kind] ?? kind;
          const next = (this.counters.get(short) ?? 0) + 1;
          this.counters.set(short, next);
          name = `${short}${next}`;
          this.aliases.set(ref, name);
        }
        return name;
      },
    );
  }

  /** Moves the sandbox's new events onto the network, with the seed's faults. */
  pump(faulty: boolean): void {
    const events = this.sandbox.events();
    for (; this.seenEvents < events.length; this.seenEvents++) {
      const event = events[this.seenEvents]!;
      const now = this.clock.now().getTime();
      // Payment events may be lost (the sweeper polls for them), and so may the events of refunds
      // settlekit asked for, its automatic refunds of unowned captures included (the refund sweeper
      // polls them by reference or refund id). Not those of dashboard refunds (settlekit never
      // heard of them: only reconciliation would tell). Nor a bounce (`refund.failed` after `refund.succeeded`): the sweeper polls pending refunds
      // only (polling every succeeded refund for a bounce would cost a PSP call per refund); a lost
      // bounce is for reconciliation (its refund_failure record), and a PSP retries it for days.
      const bounce =
        this.settledRefunds.has(refundReferenceOf(event) ?? "") && event.type === "refund.failed";
      if (event.type === "refund.succeeded") this.settledRefunds.add(refundReferenceOf(event) ?? "");
      const drop = faulty && !bounce && droppable(event) && this.rng.chance(this.config.dropRate);
      const copies = !drop && faulty && this.rng.chance(this.config.duplicateRate) ? 2 : 1;
      for (let i = 0; i < copies; i++) {
        const delay = faulty ? this.rng.int(this.config.maxDelayMs + 1) : 0;
        this.network.push({
          event: event.id,
          type: event.type,
          rawBody: event.rawBody,
          deliverAt: now + delay,
          attempts: 0,
          drop,
        });
      }
    }
  }

  /**
   * A capture on a page that outlived its payment (a PSP that cannot close pages), after the
   * payment expired or was canceled here, or on a page of an earlier attempt: only its webhook tells, until reconciliation (not built
   * yet) reads the PSP's settlement file. Such a webhook is never lost in the simulation.
   */
  private async onlyWebhookCanTell(message: InFlight): Promise<boolean> {
    if (this.config.canClosePages || message.type !== "payment.succeeded") return false;
    const wire = (
      JSON.parse(message.rawBody) as { data: { payment?: { payment_id?: string; reference?: string } } }
    ).data.payment;
    if (!wire?.payment_id) return false;
    const payment = await this.observer.getPayment(wire.payment_id).catch(() => undefined);
    // Also a capture on an older page of a payment that moved on to a new attempt (a retry): the
    // sweeper polls the current attempt's page only (seed 849).
    return (
      payment?.status === "expired" ||
      payment?.status === "canceled" ||
      (payment !== undefined && wire.reference !== undefined && payment.pspReference !== wire.reference)
    );
  }

  inFlight(): number {
    return this.network.length;
  }

  /**
   * Delivers up to `max` webhooks that are due, in a seed-chosen order (all of them, in order,
   * when `ordered`). A delivery settlekit refuses is retried later, as a PSP does.
   */
  async deliver(max: number, ordered = false): Promise<string[]> {
    const now = this.clock.now().getTime();
    const due = this.network.filter((m) => m.deliverAt <= now);
    const chosen = (ordered ? due : this.rng.shuffle(due)).slice(0, max);
    const outcomes: string[] = [];
    for (const message of chosen) {
      this.network.splice(this.network.indexOf(message), 1);
      if (message.drop && !(await this.onlyWebhookCanTell(message))) {
        outcomes.push(`${this.alias(message.event)}(${message.type})=lost`);
        continue;
      }
      const t = Math.floor(this.clock.now().getTime() / 1000);
      const headers = {
        "settlekit-sandbox-signature": signSandboxWebhook(WEBHOOK_SECRET, message.rawBody, t),
      };
      try {
        const result = await this.system.handleWebhook("sandbox", { rawBody: message.rawBody, headers });
        const how = result.duplicates ? "dup" : result.deferred ? "deferred" : "ok";
        outcomes.push(`${this.alias(message.event)}(${message.type})=${how}`);
      } catch (error) {
        // No 2xx (settlekit refused it, or its process died): the PSP sends it again later.
        message.attempts++;
        message.deliverAt = this.clock.now().getTime() + 1_000 * 2 ** Math.min(message.attempts, 10);
        this.network.push(message);
        if (isCrash(error)) throw error;
        outcomes.push(`${this.alias(message.event)}(${message.type})=refused:${codeOf(error)}`);
      }
    }
    return outcomes;
  }

  /** One worker pass of the current process (`workerId` names the worker inside it). */
  async work(worker: string) {
    const workerId = `p${this.process.number}-${worker}`;
    const pause = this.pause;
    this.pause = undefined;
    const context: WorkerPass = {
      workerId,
      mortality: this.process.store.mortality,
      claimed: new Map(),
      ...(this.config.simBugs?.leaseLossIgnored ? { leaseLossIgnored: true } : {}),
      ...(pause
        ? {
            pause: {
              n: pause.n,
              wait: async () => {
                pause.hit(context.running?.type ?? "?");
                await pause.released;
                // A process that died while it was paused does nothing more.
                if (context.mortality.dead) throw new Crash("(process died while it was paused in a job)");
              },
            },
          }
        : {}),
    };
    const pass = await workerPasses.run(context, () => runWorkerPass(this.system, workerId));
    this.refundsSettledByPoll += pass.refundSweep.settled - pass.refundSweep.capturesSettled;
    this.captureRefundsSettledByPoll += pass.refundSweep.capturesSettled;
    return pass;
  }

  /** Side effects job handlers caused at the PSP since the invariants last looked (see `checkStep`). */
  readonly jobSideEffects: JobSideEffect[] = [];
  /** Job side effects made with the lease's time run out (held or not), over the run. */
  lateJobSideEffects = 0;
  /** Job side effects made after another worker took the job over (harmless repeats), over the run. */
  repeatsAfterLeaseLost = 0;
  private pause: { n: number; hit: (type: string) => void; released: Promise<void> } | undefined;

  /**
   * Pauses the next worker pass's process in the middle of a job, before the `n`-th store
   * transaction its handler opens (a GC pause, a frozen VM), until `release`: the simulator lets
   * its lease run out and another worker take the job over meanwhile.
   */
  pauseNextJob(n: number): Stall {
    let hit!: (type: string) => void;
    let release!: () => void;
    const hitPromise = new Promise<string>((resolve) => (hit = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.pause = { n, hit, released };
    return {
      hit: hitPromise,
      release: () => {
        this.pause = undefined;
        release();
      },
    };
  }

  /**
   * `holdCaptureRefunds`: the automatic refund of an unowned capture the sandbox has not made yet
   * is held `pending` (a refusal leaves the hold to the next refund, as a PSP step's hold would).
   */
  private holdIfCaptureRefund(input: unknown): void {
    const refundId = (input as { refundId?: string }).refundId;
    if (!refundId?.startsWith("rf_capture_")) return;
    if (this.sandbox.refunds().some((r) => r.refundId === refundId)) return;
    this.sandbox.faults.holdNextRefunds(1);
  }

  /** What the PSP already did for this call (compared before and after it, to tell a new effect). */
  private effectsFor(operation: SideEffectOperation, input: unknown): string {
    const i = input as {
      refundId?: string;
      payoutId?: string;
      reversalId?: string;
      payoutReference?: string;
      pspReference?: string;
    };
    if (operation === "refund")
      return String(this.sandbox.refunds().filter((r) => r.refundId === i.refundId).length);
    if (operation === "payout")
      return String(this.sandbox.payouts().filter((p) => p.payoutId === i.payoutId).length);
    if (operation === "reversePayout")
      return String(
        this.sandbox
          .payoutReversals()
          .filter((r) => r.reversalId === i.reversalId && r.payoutReference === i.payoutReference).length,
      );
    return this.sandbox.payments().find((p) => p.pspReference === i.pspReference)?.status ?? "none";
  }

  /** Records (and may hold) a side-effect call of a job handler: see {@link JobSideEffect}. */
  private async guardSideEffect<I, T>(
    operation: SideEffectOperation,
    input: I,
    send: (input: I) => Promise<T>,
  ): Promise<T> {
    const pass = workerPasses.getStore();
    const job = pass?.running;
    if (!pass || !job) return send(input);
    const row = await this.store.transaction((tx) => tx.jobs.get(job.id));
    const at = this.clock.now().getTime();
    const held = row?.status === "running" && row.lockedBy === pass.workerId && row.attempts === job.attempts;
    const expired = (row?.lockedUntil?.getTime() ?? 0) <= at;
    const sent = input;
    const before = this.effectsFor(operation, sent);
    const record = () =>
      this.jobSideEffects.push({
        operation,
        what: JSON.stringify(sent, (_k, v) => (typeof v === "bigint" ? `${v}` : v)),
        jobId: job.id,
        jobType: job.type,
        workerId: pass.workerId,
        attempt: job.attempts,
        at,
        lease: row
          ? `${row.status} by ${row.lockedBy} until ${row.lockedUntil?.toISOString()} attempt ${row.attempts}`
          : "no such job",
        held,
        expired,
        fresh: this.effectsFor(operation, sent) !== before,
      });
    try {
      const result = await send(sent);
      record();
      return result;
    } catch (error) {
      record();
      throw error;
    }
  }

  /** Refunds the refund sweeper settled (their webhook lost or late), over the whole run. */
  refundsSettledByPoll = 0;
  /** Automatic refunds of unowned captures the refund sweeper settled, over the whole run. */
  captureRefundsSettledByPoll = 0;

  async close(): Promise<void> {
    await this.sandbox.close();
    await this.destroy();
  }
}

export function codeOf(error: unknown): string {
  if (error && typeof error === "object" && "code" in error && typeof error.code === "string")
    return error.code;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

type WireRefund = { refund_id?: string | null; reference?: string };
const wireRefund = (event: { rawBody: string }): WireRefund | undefined =>
  (JSON.parse(event.rawBody) as { data: { refund?: WireRefund } }).data.refund;
const refundReferenceOf = (event: { type: string; rawBody: string }): string | undefined =>
  event.type.startsWith("refund.") ? wireRefund(event)?.reference : undefined;

/** Whether a webhook may be lost in the simulation (see `pump`). */
function droppable(event: { type: string; rawBody: string }): boolean {
  if (event.type.startsWith("payment.")) return true;
  if (!event.type.startsWith("refund.")) return false;
  const id = wireRefund(event)?.refund_id;
  return typeof id === "string" && id.startsWith("rf_");
}
