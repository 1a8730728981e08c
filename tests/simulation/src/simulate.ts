import { isDeepStrictEqual } from "node:util";
import type { PaymentDetails, PaymentInput, PaymentMethod } from "@settlekit/core";
import { paymentView } from "@settlekit/core";
import { checkQuiescent, checkStep, Violation } from "./invariants.js";
import type { Rng } from "./prng.js";
import { createRng } from "./prng.js";
import type { CallFault, PspOperation } from "./provider.js";
import type { Crash, CrashPlan, PointKind } from "./store.js";
import { isCrash } from "./store.js";
import type { ReintroducedBugs, SimBugs, WorldConfig } from "./world.js";
import { codeOf, SANDBOX_BASE_URL, T0, World } from "./world.js";

export interface SimulationOptions {
  readonly seed: number;
  /** Actor steps before quiescence (default 200). */
  readonly steps?: number;
  /** Default: SQLite `:memory:` for about one seed in ten, else `memoryStore()`. */
  readonly store?: "memory" | "sqlite";
  /** Test only: bring back fixed bugs (see core's `testOnlyReintroducedBugs`). */
  readonly bugs?: ReintroducedBugs;
  /** Test only: bugs the simulator puts into what core writes (see {@link SimBugs}). */
  readonly simBugs?: SimBugs;
  /** Steps not taken (shrinking): each still draws its stream, so the others keep theirs. */
  readonly skip?: ReadonlySet<number>;
}

export interface SimulationResult {
  readonly seed: number;
  readonly steps: number;
  readonly config: Omit<WorldConfig, "bugs" | "simBugs">;
  /** One line per step: `#n t+<s>s actor.action: outcome`, then the quiescence summary. */
  readonly trace: readonly string[];
  readonly summary: string;
}

/** A run that broke an invariant: the seed to reproduce it, the invariant, and the trace up to it. */
export class SimulationFailure extends Error {
  constructor(
    readonly seed: number,
    readonly invariant: string,
    readonly detail: string,
    readonly trace: readonly string[],
    /** The step the run stopped at (the last one, when it broke an end-state invariant). */
    readonly steps: number,
  ) {
    super(
      `simulation seed ${seed} broke ${invariant}: ${detail}\n` +
        `reproduce: npm run simulate -- --seed ${seed} --steps ${steps}\n` +
        `trace (last 60 of ${trace.length} lines):\n${trace.slice(-60).join("\n")}`,
    );
    this.name = "SimulationFailure";
  }
}

const BUYERS = ["B1", "B2", "B3"];
const SELLERS = ["S1", "S2", "S3", "S4"];
const CURRENCIES = ["USD", "JPY", "EUR"];
const CARDS = {
  success: "4242 4242 4242 4242",
  declined: "4000 0000 0000 0002",
  insufficient: "4000 0000 0000 9995",
  processing: "4000 0000 0000 3220",
} as const;
const REFUNDABLE = new Set(["succeeded", "partially_refunded"]);
/** The PSP side effect of each job type that has one (see `pauseInJob`). */
const PSP_CALL_OF_JOB: Readonly<Record<string, PspOperation>> = {
  "payout.send": "payout",
  "psp.refund": "refund",
  "psp.refund_capture": "refund",
  "payout.clawback": "reversePayout",
  "psp.close_attempts": "cancelHostedPayment",
};
const DAY = 86_400_000;

/** What the buyers' browsers know: each payment they were answered, and every page they were sent to. */
interface KnownPayment {
  readonly id: string;
  readonly buyerId: string;
  readonly method: PaymentMethod;
  readonly pages: string[];
}

function configFor(rng: Rng, options: SimulationOptions): WorldConfig {
  const config: WorldConfig = {
    storeKind: options.store ?? (rng.chance(0.1) ? "sqlite" : "memory"),
    canClosePages: rng.chance(0.7),
    bankTransferSettleMs: rng.pick([5_000, 30_000, 600_000]),
    backoffBaseMs: rng.pick([200, 1_000, 5_000]),
    sweepAfterMs: rng.pick([60_000, 900_000]),
    dropRate: rng.pick([0, 0.05, 0.25]),
    duplicateRate: rng.pick([0, 0.1, 0.3]),
    maxDelayMs: rng.pick([0, 5_000, 120_000, 3_600_000]),
    publisherFailRate: rng.pick([0, 0.05, 0.2]),
    payouts: {
      commissionBps: rng.pick([0, 1_250]),
      hold: rng.pick(["none", "none", "after-delivery", "after-shipment"] as const),
      fx: rng.chance(0.5),
      fxSpreadBps: rng.pick([0, 75]),
      minimum: rng.pick([1, 1, 2_000]),
      maxAttempts: rng.pick([2, 3, 8]),
      checkAfterMs: rng.pick([60_000, 3_600_000]),
    },
    disputeFees: rng.pick(["seller", "seller", "platform"] as const),
    clawbacks: rng.chance(0.4) ? "reverse_payouts" : "net_next_payout",
    bugs: options.bugs,
    simBugs: options.simBugs,
  };
  // Drawn after every other draw: the seeds' earlier draws stay as they were.
  const holdCaptureRefunds = rng.chance(0.5);
  // Derived, not drawn.
  return {
    ...config,
    holdCaptureRefunds,
    refundSweepAfterMs: config.sweepAfterMs === 60_000 ? 60_000 : 3_600_000,
  };
}

const refOf = (url: string | undefined) =>
  url?.startsWith(`${SANDBOX_BASE_URL}/pay/`) ? url.split("/pay/")[1] : undefined;

/** One seed's run: actors for `steps` steps, invariants after each, then quiescence and its invariants. */
export async function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  const root = createRng(options.seed);
  const config = configFor(root.fork(), options);
  const rng = root.fork();
  const steps = options.steps ?? 200;
  // Every Math.random the code under test draws (backoff jitter, balance shards) comes from the seed too.
  const mathRandom = Math.random;
  const mathRng = root.fork();
  Math.random = () => mathRng.next();
  const world = await World.create(options.seed, config, root.fork());
  const trace: string[] = [];
  // Whether a worker pass pauses in a job (see `pauseInJob`) is drawn from a stream of its own,
  // after every other: a pause that never reaches a PSP call leaves the seed's run as it was.
  const sim = new Simulation(world, rng, trace, root.fork());
  let at = 0;
  try {
    for (let step = 1; step <= steps; step++) {
      at = step;
      const skip = options.skip?.has(step) === true;
      await sim.step(step, skip);
      if (!skip) await checkStep(world);
    }
    const crashes = [...world.crashes].map(([kind, n]) => `${kind}:${n}`).join(",");
    const summary = `${await sim.quiesce()}${crashes ? ` crashes=${crashes}` : ""}`;
    trace.push(`= ${summary}`);
    const { bugs: _bugs, simBugs: _simBugs, ...shown } = config;
    return { seed: options.seed, steps, config: shown, trace, summary };
  } catch (error) {
    const { bugs: _unused, simBugs: _unusedToo, ...shown } = config;
    trace.unshift(`world ${JSON.stringify(shown)}`);
    if (error instanceof Violation)
      throw new SimulationFailure(options.seed, error.invariant, error.message, trace, at);
    throw new SimulationFailure(
      options.seed,
      "no-crash-of-the-simulator",
      String((error as Error)?.stack ?? error),
      trace,
      at,
    );
  } finally {
    Math.random = mathRandom;
    await world.close();
  }
}

/**
 * The value with its `undefined`-valued fields left out: a first answer may carry
 * `failureReason: undefined` where the stored replay has no such key (the same record, the same
 * JSON). Everything else must be equal, types included (bigint, Date).
 */
function defined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(defined);
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, defined(v)]),
    );
  }
  return value;
}

const show = (value: unknown) =>
  JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? `${v}n` : v === undefined ? "<undefined>" : v));

/** A settlekit or PSP error (it has a stable code): an outcome, not a bug. */
const isCoded = (error: unknown) => /^[A-Z][A-Z_]+$/.test(codeOf(error));

type Action = readonly [actor: string, run: () => Promise<string>, weight: number];

class Simulation {
  private readonly known: KnownPayment[] = [];
  private readonly unanswered: { key: string; input: PaymentInput }[] = [];
  private keys = 0;
  private readonly replays = new Map<string, number>();

  constructor(
    private readonly world: World,
    private readonly steps: Rng,
    private readonly trace: string[],
    private readonly pauses: Rng,
  ) {
    this.rng = steps.fork();
  }

  /** This step's stream: every step forks its own, so skipping one (shrinking) leaves the others' draws alone. */
  private rng: Rng;

  private get system() {
    return this.world.system;
  }

  private log(step: number | string, actor: string, outcome: string) {
    const t = Math.round((this.world.clock.now().getTime() - T0.getTime()) / 1000);
    this.trace.push(
      `${typeof step === "number" ? `#${step}` : step} t+${t}s ${actor}: ${this.world.alias(outcome)}`,
    );
  }

  async step(step: number, skip = false): Promise<void> {
    this.rng = this.steps.fork();
    if (skip) return;
    const [actor, run] = this.rng.weighted(this.actions().map((a) => [a, a[2]] as const));
    let outcome: string;
    try {
      outcome = await run();
    } catch (error) {
      if (error instanceof Violation) {
        this.log(step, actor, `VIOLATION ${error.message}`);
        throw error;
      }
      if (!isCrash(error) && isCoded(error)) {
        outcome = `→ ${codeOf(error)}`;
      } else if (!isCrash(error)) {
        this.log(step, actor, `unexpected ${codeOf(error)}`);
        throw new Violation("no-unexpected-error", `${actor}: ${String((error as Error)?.stack ?? error)}`);
      } else outcome = `crashed (${(error as Crash).where})`;
    }
    if (this.world.process.store.dead) {
      const { number } = this.world.start();
      outcome += ` | process died, restarted as p${number}`;
      // On its way up the new process may run its recovery pass at once, or wait for its worker.
      if (this.rng.chance(0.5)) {
        const pass = await this.world.work("boot");
        this.world.pump(true);
        outcome += `, boot pass recovered=${pass.recovered} jobs=${pass.jobs.claimed}`;
      }
    }
    this.log(step, actor, outcome);
  }

  /** The actors that can act now, with their weights. */
  private actions(): Action[] {
    const list: Action[] = [
      ["buyer.create", () => this.create(), 10],
      ["time.advance", () => this.advance(), 8],
      ["psp.deliver-webhooks", () => this.deliver(), 10],
      ["worker.pass", () => this.work(), 8],
      ["psp.fault", () => this.pspFault(), 3],
      ["process.crash", () => this.armCrash(), 1.5],
    ];
    if (this.known.length) {
      list.push(
        ["buyer.pay", () => this.pay(), 12],
        ["buyer.view", () => this.view(), 3],
        ["buyer.retry", () => this.retry(), 5],
        ["operator.refund", () => this.refund(), 4],
        ["seller.fulfil", () => this.fulfil(), 3],
        ["psp.bank", () => this.pspBank(), 3],
      );
    }
    // Paying sellers (issue 16): schedules, requests, the worker's payout passes, PSP payout faults,
    // bank returns and reversals, and crashes in the middle of payout work.
    list.push(
      ["seller.payout-schedule", () => this.payoutSchedule(), 1.5],
      ["payout.request", () => this.requestPayout(), 4],
      ["worker.payout-pass", () => this.payoutPass(), 4],
      ["psp.payout-fault", () => this.payoutFault(), 2.5],
      ["process.crash-in-payout", () => this.crashInPayout(), 1],
      ["payout.race", () => this.payoutRace(), 1.5],
    );
    if (this.world.sandbox.payouts().length) list.push(["psp.payout-bank", () => this.payoutBank(), 1.5]);
    // Disputes (chargebacks): the buyer's bank opens one on a captured payment, the platform sends
    // evidence, wins (the money reinstated, the fee perhaps) or loses.
    if (this.world.sandbox.payments().some((p) => p.status === "succeeded"))
      list.push(["psp.dispute", () => this.dispute(), 3]);
    // Reconciliation: an operator (or the nightly task) reconciles the sandbox's settlement.
    list.push(["operator.reconcile", () => this.reconcile(), 1.5]);
    if (this.unanswered.length) list.push(["buyer.resend-create", () => this.resendCreate(), 4]);
    list.push(["operator.dead-letters", () => this.deadLetters(), 1]);
    return list;
  }

  private learn(payment: PaymentDetails, method: PaymentMethod) {
    let known = this.known.find((k) => k.id === payment.id);
    if (!known) {
      known = { id: payment.id, buyerId: payment.buyerId, method, pages: [] };
      this.known.push(known);
    }
    const ref = refOf(payment.redirectUrl);
    if (ref && !known.pages.includes(ref)) known.pages.push(ref);
  }

  private sameAnswer(what: string, first: unknown, replay: unknown, view?: (x: never) => unknown) {
    if (!isDeepStrictEqual(defined(first), defined(replay))) {
      throw new Violation(
        "idempotent-replay",
        `${what}: the replay differs from the first answer:\n  first:  ${show(first)}\n  replay: ${show(replay)}`,
      );
    }
    if (view && JSON.stringify(view(first as never)) !== JSON.stringify(view(replay as never))) {
      throw new Violation("idempotent-replay", `${what}: the replay's JSON differs from the first answer's`);
    }
  }

  /** A request sent once, twice at once (a double click), or twice in a row (the first answer lost). */
  private async keyed<T>(
    call: () => Promise<T>,
    compare: (first: T, second: T) => void,
  ): Promise<[string, T[]]> {
    const mode = this.rng.weighted([
      ["once", 6],
      ["double-click", 2],
      ["lost-answer", 2],
    ] as const);
    if (mode === "once") {
      return ["once", [await call()]];
    }
    if (mode === "double-click") {
      const settled = await Promise.allSettled([call(), call()]);
      const ok = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
      for (const s of settled)
        if (s.status === "rejected" && (isCrash(s.reason) || !isCoded(s.reason))) throw s.reason;
      if (ok.length === 2) compare(ok[0]!, ok[1]!);
      const refused = settled.flatMap((s) => (s.status === "rejected" ? [codeOf(s.reason)] : []));
      return [`double-click${refused.length ? ` (one: ${refused.join(",")})` : ""}`, ok];
    }
    let first: T | undefined;
    let firstError: unknown;
    try {
      first = await call();
    } catch (error) {
      if (isCrash(error)) throw error;
      firstError = error;
    }
    if (this.rng.chance(0.5)) this.world.clock.advance(this.rng.between(100, 20_000));
    const second = await call();
    if (first !== undefined) compare(first, second);
    return [
      `lost-answer${firstError ? ` (first: ${codeOf(firstError)})` : ""}`,
      first === undefined ? [second] : [first, second],
    ];
  }

  private async create(): Promise<string> {
    const currency = this.rng.pick(CURRENCIES);
    const method: PaymentMethod = this.rng.chance(0.3) ? "bank_transfer" : "card";
    const unit = currency === "JPY" ? 10n : 100n;
    const input: PaymentInput = {
      buyerId: this.rng.pick(BUYERS),
      currency,
      method,
      orders: this.rng
        .shuffle(SELLERS)
        .slice(0, this.rng.between(1, 3))
        .map((sellerId) => ({ sellerId, amount: BigInt(this.rng.between(1, 400)) * unit })),
      successUrl: "https://shop.sim/orders/done",
      cancelUrl: "https://shop.sim/cart",
    };
    const key = `create-${++this.keys}`;
    return this.sendCreate(key, input);
  }

  private async resendCreate(): Promise<string> {
    const index = this.rng.int(this.unanswered.length);
    const { key, input } = this.unanswered.splice(index, 1)[0]!;
    return `resend ${await this.sendCreate(key, input)}`;
  }

  private async sendCreate(key: string, input: PaymentInput): Promise<string> {
    const call = () => this.system.createPayment(input, { idempotencyKey: key });
    try {
      const [mode, answers] = await this.keyed(call, (a, b) => {
        if (!b.replayed && !a.replayed)
          throw new Violation("idempotent-replay", `${key}: the second answer is not a replay`);
        this.sameAnswer(`createPayment ${key}`, a.payment, b.payment, paymentView);
      });
      for (const a of answers) this.learn(a.payment, input.method);
      const p = answers[0]?.payment;
      return `${key} ${input.method} ${input.currency} ${mode} → ${p ? `${p.id} ${p.status}${refOf(p.redirectUrl) ? ` ${refOf(p.redirectUrl)}` : ""}` : "no answer"}`;
    } catch (error) {
      // The buyer did not hear back: the browser sends the same request again later.
      this.unanswered.push({ key, input });
      throw error;
    }
  }

  private pickKnown(): KnownPayment {
    // Recent payments more often, old ones still now and then ("come back late").
    const n = this.known.length;
    return this.rng.chance(0.7)
      ? this.known[Math.max(0, n - 1 - this.rng.int(4))]!
      : this.rng.pick(this.known);
  }

  private async pay(): Promise<string> {
    const known = this.pickKnown();
    if (!known.pages.length) return `${known.id}: no page yet`;
    // Any page the buyer ever got, old attempts included.
    const ref = this.rng.chance(0.6) ? known.pages.at(-1)! : this.rng.pick(known.pages);
    const how = this.rng.weighted([
      ["success", 5],
      ["declined", 2],
      ["insufficient", 1],
      ["processing", 1],
      ...(known.method === "bank_transfer" ? ([["transfer", 4]] as const) : []),
    ] as const);
    try {
      const result = await this.world.sandbox.pay(
        ref,
        how === "transfer" ? { method: "bank_transfer" } : { card: CARDS[how] },
      );
      this.world.pump(true);
      return `${known.id} on ${ref} (${known.pages.indexOf(ref) + 1}/${known.pages.length}) ${how} → ${result.status}`;
    } catch (error) {
      return `${known.id} on ${ref} ${how} → refused ${(error as { pspCode?: string }).pspCode ?? codeOf(error)}`;
    }
  }

  private async view(): Promise<string> {
    const known = this.pickKnown();
    const payment = await this.system.getPayment(known.id, { buyerId: known.buyerId });
    this.learn(payment, known.method);
    return `${known.id} ${payment.status} attempt ${payment.attempt}`;
  }

  private async retry(): Promise<string> {
    const known = this.pickKnown();
    const key = `retry-${++this.keys}`;
    const call = () => this.system.retryPayment(known.id, { buyerId: known.buyerId, idempotencyKey: key });
    try {
      const [mode, answers] = await this.keyed(call, (a, b) =>
        this.sameAnswer(`retryPayment ${key}`, a, b, paymentView),
      );
      for (const a of answers) this.learn(a, known.method);
      const p = answers[0];
      return `${known.id} ${key} ${mode} → ${p ? `${p.status} attempt ${p.attempt} ${refOf(p.redirectUrl) ?? ""}` : "no answer"}`;
    } catch (error) {
      if (isCrash(error) || error instanceof Violation) throw error;
      return `${known.id} ${key} → ${codeOf(error)}`;
    }
  }

  private async advance(): Promise<string> {
    const ms = this.rng.weighted([
      [this.rng.between(100, 60_000), 5],
      [this.rng.between(60_000, 30 * 60_000), 3],
      // The buyer comes back late: hours, past sweeps, deadlines and leases.
      [this.rng.between(3_600_000, 30 * 3_600_000), 1],
    ] as const);
    this.world.clock.advance(ms);
    await this.world.sandbox.tick();
    this.world.pump(true);
    return `+${ms}ms`;
  }

  private async deliver(): Promise<string> {
    this.world.pump(true);
    const outcomes = await this.world.deliver(this.rng.between(1, 4));
    return outcomes.length ? outcomes.join(" ") : `nothing due (${this.world.inFlight()} in flight)`;
  }

  private async work(): Promise<string> {
    const two = this.rng.chance(0.25);
    if (!two && this.pauses.chance(0.2)) return this.pauseInJob();
    const passes = await Promise.all(
      two ? [this.world.work("w1"), this.world.work("w2")] : [this.world.work("w1")],
    );
    this.world.pump(true);
    return passes
      .map(
        (p) =>
          `pub=${p.relay.published} jobs=${p.jobs.claimed}/${p.jobs.succeeded}ok/${p.jobs.dead}dead deferred=${p.webhooks} swept=${p.sweep.polled}/${p.sweep.changed}/${p.sweep.expired}${p.refundSweep.polled > 0 ? ` refunds-polled=${p.refundSweep.polled}/${p.refundSweep.settled}` : ""} recovered=${p.recovered}`,
      )
      .join(" || ");
  }

  private async paidPayment(): Promise<PaymentDetails | undefined> {
    const candidates = this.known.slice(-12);
    for (const known of this.rng.shuffle(candidates)) {
      const payment = await this.system.getPayment(known.id);
      if (REFUNDABLE.has(payment.status) || payment.status === "refunded") return payment;
    }
    return undefined;
  }

  private async refund(): Promise<string> {
    const payment = await this.paidPayment();
    if (!payment) return "no paid payment";
    const order = this.rng.pick(payment.orders);
    const left = order.amount - order.refundedAmount;
    const partial = left > 1n && this.rng.chance(0.5);
    const amount = partial ? BigInt(this.rng.between(1, Number(left) - 1)) : undefined;
    const asSeller = this.rng.chance(0.3);
    const key = `refund-${++this.keys}`;
    const call = () =>
      this.system.refundPayment(
        payment.id,
        {
          paymentOrderId: order.id,
          ...(amount === undefined ? {} : { amount }),
          reason: "requested_by_customer",
        },
        {
          idempotencyKey: key,
          ...(asSeller ? { sellerId: order.sellerId, scope: `seller:${order.sellerId}` } : {}),
        },
      );
    try {
      const [mode, answers] = await this.keyed(call, (a, b) =>
        this.sameAnswer(`refund ${key}`, a.refund, b.refund),
      );
      const r = answers[0]?.refund;
      return `${payment.id}/${order.sellerId} ${amount ?? "rest"} of ${left} ${asSeller ? "by seller" : "by operator"} ${mode} → ${r ? `${r.status} ${r.amount}` : "no answer"}`;
    } catch (error) {
      if (isCrash(error) || error instanceof Violation) throw error;
      return `${payment.id}/${order.sellerId} ${amount ?? "rest"} of ${left} → ${codeOf(error)}`;
    }
  }

  private async fulfil(): Promise<string> {
    const payment = await this.paidPayment();
    if (!payment) return "no paid payment";
    const order = this.rng.pick(payment.orders);
    // Undated (shipped and delivered now), shipped now, or delivered now (a later call adds a date).
    const now = this.world.clock.now();
    const dates = this.rng.weighted([
      ["undated", 2],
      ["shipped", 2],
      ["delivered", 2],
    ] as const);
    try {
      const done = await this.system.fulfilOrder(
        {
          paymentOrderId: order.id,
          ...(dates === "shipped" ? { shippedAt: now } : dates === "delivered" ? { deliveredAt: now } : {}),
        },
        { sellerId: order.sellerId },
      );
      return `${order.id} ${dates} → ${done.status}`;
    } catch (error) {
      if (isCrash(error) || error instanceof Violation) throw error;
      return `${order.id} → ${codeOf(error)}`;
    }
  }

  private async deadLetters(): Promise<string> {
    const dead = await this.system.listDeadLetters();
    if (!dead.length) {
      const review = await this.system.searchPayments({ status: "requires_review" });
      const payment = review.data[0];
      if (!payment) return "none";
      const decision = this.rng.chance(0.5) ? "approve" : "reject";
      const after = await this.system.resolveReview(payment.id, decision);
      return `review ${payment.id} ${decision} → ${after.status}`;
    }
    const job = this.rng.pick(dead);
    await this.system.replayDeadLetter(job.id);
    return `replayed ${job.type} ${job.id}`;
  }

  /** The PSP misbehaves on one of the next calls, or the bank does something on its own. */
  private async pspFault(): Promise<string> {
    const { sandbox, provider } = this.world;
    const kind = this.rng.weighted([
      ["call", 5],
      ["registration", 2],
      ["cancel-503", 1],
      ["hold-refund", 2],
    ] as const);
    if (kind === "call") {
      const operation = this.rng.pick<PspOperation>([
        "createHostedPayment",
        "refund",
        "cancelHostedPayment",
        "retrievePayment",
      ]);
      const fault = this.rng.pick<CallFault>(["timeout-before", "timeout-after", "5xx-before", "5xx-after"]);
      provider.failNext(operation, fault);
      return `next ${operation}: ${fault}`;
    }
    if (kind === "registration") {
      const mode = this.rng.pick(["503", "timeout"] as const);
      sandbox.faults.failNextRegistrations(1, mode);
      return `next registration: ${mode}`;
    }
    if (kind === "cancel-503") {
      sandbox.faults.failNextCancels(1);
      return "next cancel: 503";
    }
    sandbox.faults.holdNextRefunds(1);
    return "next refund stays pending";
  }

  /** The bank or the PSP's own people act: transfers settle, refunds settle or bounce, dashboard refunds, pages closed early. */
  private async pspBank(): Promise<string> {
    const { sandbox } = this.world;
    const what = this.rng.weighted([
      ["settle-transfer", 3],
      ["settle-held-refunds", 2],
      ["bounce-refund", 1],
      ["dashboard-refund", 1],
      ["close-page-early", 1],
    ] as const);
    const mine = new Set(this.known.map((k) => k.id));
    const payments = sandbox.payments().filter((p) => mine.has(p.paymentId));
    let outcome = "nothing to do";
    if (what === "settle-transfer") {
      const processing = payments.filter((p) => p.status === "processing");
      if (processing.length) {
        const p = this.rng.pick(processing);
        outcome = `${p.pspReference} → ${(await sandbox.settle(p.pspReference)).status}`;
      }
    } else if (what === "settle-held-refunds") {
      const held = sandbox.refunds().filter((r) => r.status === "pending").length;
      if (held) {
        const result = this.rng.chance(0.7) ? "succeeded" : "failed";
        sandbox.faults.settleHeldRefunds(result);
        outcome = `${held} held refunds ${result}`;
      }
    } else if (what === "bounce-refund") {
      const done = sandbox.refunds().filter((r) => r.status === "succeeded");
      if (done.length) {
        const r = this.rng.pick(done);
        sandbox.faults.failRefundAfterSuccess(r.refundReference);
        outcome = `${r.refundReference} of ${r.pspReference} bounced`;
      }
    } else if (what === "dashboard-refund") {
      const paid = await this.paidPayment();
      const p = paid?.pspReference ? sandbox.payment(paid.pspReference) : undefined;
      if (p && p.status === "succeeded" && p.amount > p.amountRefunded) {
        const left = p.amount - p.amountRefunded;
        const amount = this.rng.chance(0.5) ? left : BigInt(this.rng.between(1, Number(left)));
        const hold = this.rng.chance(0.2);
        const r = await sandbox.refundFromDashboard(p.pspReference, amount, { hold });
        outcome = `${p.pspReference} ${amount} of ${left}${hold ? " held" : ""} → ${r.status}`;
      }
    } else {
      const open = payments.filter((p) => p.status === "requires_payment" || p.status === "failed");
      if (open.length) {
        const p = this.rng.pick(open);
        outcome = `${p.pspReference} → ${(await sandbox.expire(p.pspReference)).status}`;
      }
    }
    this.world.pump(true);
    return `${what} ${outcome}`;
  }

  /** The buyer's bank disputes a captured payment, or a dispute moves on: evidence, won, lost. */
  private async dispute(): Promise<string> {
    const { sandbox } = this.world;
    const open = sandbox
      .disputes()
      .filter((d) => d.status === "needs_response" || d.status === "under_review");
    const what = open.length
      ? this.rng.weighted([
          ["open", 3],
          ["evidence", 1],
          ["win", 2],
          ["lose", 2],
        ] as const)
      : "open";
    let outcome: string;
    try {
      if (what === "open") {
        const mine = new Set(this.known.map((k) => k.id));
        // A capture its payment owns, or one settlekit recorded as owned by no order (after the
        // local expiry, on an old page): that dispute is the platform's.
        const captured: typeof candidates = [];
        const candidates = sandbox
          .payments()
          .filter((p) => mine.has(p.paymentId) && p.status === "succeeded");
        for (const c of candidates) {
          const ours = await this.world.observer.getPayment(c.paymentId);
          const unowned = (await this.world.observer.listPaymentAttempts(c.paymentId)).some(
            (a) => a.pspReference === c.pspReference && a.unownedReason !== undefined,
          );
          if (unowned || (ours.pspReference === c.pspReference && REFUNDABLE.has(ours.status)))
            captured.push(c);
        }
        if (!captured.length) return "open: no capture recorded";
        const p = this.rng.pick(captured);
        const held = sandbox
          .disputes()
          .filter((d) => d.pspReference === p.pspReference && d.reinstated === undefined)
          .reduce((sum, d) => sum + d.withdrawn.amount, 0n);
        const left = p.amount - p.amountRefunded - held;
        const amount =
          left > 1n && this.rng.chance(0.3) ? BigInt(this.rng.between(1, Number(left) - 1)) : undefined;
        const d = await sandbox.openDispute(p.pspReference, amount === undefined ? {} : { amount });
        outcome = `${p.pspReference} ${d.amount} of ${left} (fee ${d.withdrawn.fee}) → ${d.disputeReference} ${d.status}`;
      } else {
        const d = this.rng.pick(open);
        if (what === "evidence") {
          outcome = `${d.disputeReference} → ${(await sandbox.submitDisputeEvidence(d.disputeReference)).status}`;
        } else if (what === "win") {
          const fee = d.withdrawn.fee;
          const feeReturned = this.rng.pick([0n, fee, fee / 2n]);
          const won = await sandbox.winDispute(d.disputeReference, { feeReturned });
          outcome = `${d.disputeReference} of ${d.pspReference} → ${won.status}, ${won.reinstated?.amount} back (fee ${feeReturned} of ${fee})`;
        } else {
          outcome = `${d.disputeReference} of ${d.pspReference} → ${(await sandbox.loseDispute(d.disputeReference)).status}`;
        }
      }
    } catch (error) {
      outcome = `refused ${(error as { pspCode?: string }).pspCode ?? codeOf(error)}`;
    }
    this.world.pump(true);
    return `${what} ${outcome}`;
  }

  /**
   * An operator (or the nightly task) reconciles the sandbox's own settlement for a seed-chosen
   * period — today so far, yesterday, the last hours — booking what matched. Faults are in the
   * air, so discrepancies may be real timing differences here; the end state checks a quiet run.
   */
  private async reconcile(): Promise<string> {
    const now = this.world.clock.now().getTime();
    const day = Math.floor(now / DAY) * DAY;
    const which = this.rng.weighted([
      ["today", 2],
      ["yesterday", 1],
      ["last-hours", 2],
    ] as const);
    const [from, to] =
      which === "today"
        ? [day, now + 1]
        : which === "yesterday"
          ? // Not quite the UTC day the end state reconciles: the same source again is a replay
            // of the earlier run (core: idempotent by checksum), stale once the ledger caught up.
            [day - DAY, day - 1]
          : [now - this.rng.between(1, 12) * 3_600_000, now + 1];
    if (to <= from) return `${which}: empty period`;
    const { run, replayed } = await this.system.reconcile({
      provider: "sandbox",
      period: { from: new Date(from), to: new Date(to) },
      ...(this.rng.chance(0.3) ? { batchSize: this.rng.between(1, 5) } : {}),
    });
    return `${which} ${run.status}${replayed ? " (replayed)" : ""} records=${run.recordCount} discrepancies=${run.discrepancyCount}`;
  }

  /** A seller sets a payout schedule and, where FX rates exist, a payout currency. */
  private async payoutSchedule(): Promise<string> {
    const sellerId = this.rng.pick(SELLERS);
    const interval = this.rng.pick(["manual", "daily", "weekly"] as const);
    const fx = this.world.config.payouts?.fx === true;
    const payoutCurrency = fx && this.rng.chance(0.5) ? this.rng.pick(CURRENCIES) : null;
    const account = await this.system.configureSellerPayouts(sellerId, { interval, payoutCurrency });
    return `${sellerId} ${interval}${payoutCurrency ? ` in ${payoutCurrency}` : ""} → next ${account.nextPayoutAt?.toISOString() ?? "on request"}`;
  }

  /** An operator, or the seller's "Request payout" button, pays a seller now (idempotent by key). */
  private async requestPayout(): Promise<string> {
    const sellerId = this.rng.pick(SELLERS);
    const currency = this.rng.chance(0.3) ? this.rng.pick(CURRENCIES) : undefined;
    const asSeller = this.rng.chance(0.5);
    const key = `payout-${++this.keys}`;
    const call = () =>
      this.system.requestPayout(
        { sellerId, ...(currency ? { currency } : {}) },
        { idempotencyKey: key, ...(asSeller ? { scope: `seller:${sellerId}` } : {}) },
      );
    try {
      const [mode, answers] = await this.keyed(call, (a, b) => this.sameAnswer(`requestPayout ${key}`, a, b));
      const r = answers[0];
      const told = r
        ? [
            ...r.payouts.map(
              (p) =>
                `${p.id} ${p.status} ${p.amount}${p.currency}${p.fx ? ` (from ${p.sourceAmount}${p.sourceCurrency})` : ""}${p.failureCode ? ` ${p.failureCode}` : ""}`,
            ),
            ...r.skipped.map((k) => `skipped ${k.currency} ${k.reason} ${k.available}`),
          ].join(", ") || "nothing"
        : "no answer";
      return `${sellerId}${currency ? ` ${currency}` : ""} ${asSeller ? "by seller" : "by operator"} ${mode} → ${told}`;
    } catch (error) {
      if (isCrash(error) || error instanceof Violation) throw error;
      return `${sellerId}${currency ? ` ${currency}` : ""} → ${codeOf(error)}`;
    }
  }

  /** The worker's payout duties in a seed-chosen order: payout cycles, releases of due orders, job passes. */
  private async payoutPass(): Promise<string> {
    const duties = this.rng.shuffle(["cycle", "release", "jobs"] as const).slice(0, this.rng.between(1, 3));
    const outcomes: string[] = [];
    for (const duty of duties) {
      const worker = `p${this.world.process.number}-payouts`;
      if (duty === "cycle") {
        const r = await this.system.runPayoutCycle({ workerId: worker });
        outcomes.push(`cycle scheduled=${r.scheduled} jobs=${r.jobs}`);
      } else if (duty === "release") {
        const r = await this.system.releaseDueOrders();
        outcomes.push(`released=${r.released}`);
      } else {
        const p = await this.world.work("w1");
        outcomes.push(
          `jobs=${p.jobs.claimed}/${p.jobs.succeeded}ok/${p.jobs.dead}dead payouts=${p.payoutsScheduled}`,
        );
      }
    }
    this.world.pump(true);
    return outcomes.join(" ; ");
  }

  /** The PSP misbehaves on one of the next payout calls (before or after paying), or its lookups. */
  private async payoutFault(): Promise<string> {
    const { sandbox, provider } = this.world;
    const kind = this.rng.weighted([
      ["call", 4],
      ["refused", 3],
      ["503", 1],
      ["paid-then-timeout", 2],
      ["lookup-503", 1],
    ] as const);
    if (kind === "call") {
      const operation = this.rng.pick<PspOperation>(["payout", "payout", "retrievePayout"]);
      const fault = this.rng.pick<CallFault>(["timeout-before", "timeout-after", "5xx-before", "5xx-after"]);
      provider.failNext(operation, fault);
      return `next ${operation}: ${fault}`;
    }
    if (kind === "refused") {
      const failureReason = this.rng.pick(["account_closed", "invalid_account_number", "account_frozen"]);
      sandbox.faults.failNextPayouts(1, "refused", { failureReason });
      return `next payout refused: ${failureReason}`;
    }
    if (kind === "503") {
      sandbox.faults.failNextPayouts(1, "503");
      return "next payout: 503";
    }
    if (kind === "paid-then-timeout") {
      sandbox.faults.failNextPayouts(1, "timeout");
      return "next payout: paid, then a timeout";
    }
    sandbox.faults.failNextPayoutLookups(1);
    return "next payout lookup: 503";
  }

  /** After paying: the seller's bank returns a payout, or the PSP takes (part of) one back. */
  private async payoutBank(): Promise<string> {
    const { sandbox } = this.world;
    const what = this.rng.weighted([
      ["bank-return", 1],
      ["psp-reversal", 1],
    ] as const);
    let outcome = "nothing to do";
    if (what === "bank-return") {
      const paid = sandbox.payouts().filter((p) => p.status === "paid");
      if (paid.length) {
        const p = this.rng.pick(paid);
        sandbox.faults.failPayoutAfterPaid(p.payoutReference, { failureReason: "account_closed" });
        outcome = `${p.payoutReference} of ${p.amount}${p.currency} returned`;
      }
    } else {
      const open = sandbox
        .payouts()
        .filter(
          (p) => (p.status === "paid" || p.status === "partially_reversed") && p.amount > p.amountReversed,
        );
      if (open.length) {
        const p = this.rng.pick(open);
        const left = p.amount - p.amountReversed;
        const amount = this.rng.chance(0.5) ? left : BigInt(this.rng.between(1, Number(left)));
        const r = await sandbox.reversePayout({
          payoutReference: p.payoutReference,
          payoutId: p.payoutId,
          amount,
          currency: p.currency,
          idempotencyKey: `sim-reversal-${++this.keys}`,
        });
        outcome = `${p.payoutReference} ${amount} of ${left}${p.currency} taken back → ${r.amountReversed} reversed in all`;
      }
    }
    this.world.pump(true);
    return `${what} ${outcome}`;
  }

  /**
   * Two things at once for one seller: a payout request racing a payout cycle, a worker pass,
   * another request (another key: two tabs), a refund of one of the seller's orders or a fulfilment.
   */
  private async payoutRace(): Promise<string> {
    const sellerId = this.rng.pick(SELLERS);
    const kinds = ["request", "cycle", "worker", "request", "refund", "fulfil"] as const;
    const chosen = [this.rng.pick(kinds), this.rng.pick(kinds)];
    const run = async (kind: (typeof kinds)[number]): Promise<string> => {
      if (kind === "request") {
        const r = await this.system.requestPayout({ sellerId }, { idempotencyKey: `payout-${++this.keys}` });
        return `request ${r.payouts.map((p) => `${p.id} ${p.status} ${p.amount}${p.currency}`).join(",") || "nothing"}`;
      }
      if (kind === "cycle") {
        const r = await this.system.runPayoutCycle({ workerId: `p${this.world.process.number}-race` });
        return `cycle jobs=${r.jobs}`;
      }
      if (kind === "worker") {
        const p = await this.world.work("race");
        return `worker jobs=${p.jobs.claimed}`;
      }
      if (kind === "fulfil") return `fulfil ${await this.fulfil()}`;
      return `refund ${await this.refund()}`;
    };
    const settled = await Promise.allSettled(chosen.map(run));
    this.world.pump(true);
    const outcomes: string[] = [];
    for (const s of settled) {
      if (s.status === "fulfilled") outcomes.push(s.value);
      else if (isCrash(s.reason) || s.reason instanceof Violation || !isCoded(s.reason)) throw s.reason;
      else outcomes.push(`→ ${codeOf(s.reason)}`);
    }
    return `${sellerId} ${chosen.join(" vs ")}: ${outcomes.join(" || ")}`;
  }

  /** Where the process dies: its n-th await point from now, of any kind or of one kind only. */
  private crashPlan(max: number): CrashPlan {
    const kind = this.rng.weighted<PointKind | undefined>([
      [undefined, 3],
      ["store", 2],
      ["psp", 2],
      ["publish", 1],
    ]);
    return { n: this.rng.between(1, kind === undefined ? max * 3 : kind === "store" ? max * 2 : max), kind };
  }

  private static describe(plan: CrashPlan): string {
    return `its ${plan.kind ? `${plan.kind} ` : ""}await point ${plan.n} from now`;
  }

  /** The process dies at one of the next await points of some payout work (then restarts and recovers). */
  private async crashInPayout(): Promise<string> {
    const plan = this.crashPlan(5);
    this.world.process.store.arm(plan);
    const work = this.rng.pick(["request", "cycle", "release", "worker"] as const);
    const sellerId = this.rng.pick(SELLERS);
    const armed = `p${this.world.process.number} dies at ${Simulation.describe(plan)} during ${work}`;
    if (work === "request") await this.system.requestPayout({ sellerId });
    else if (work === "cycle")
      await this.system.runPayoutCycle({ workerId: `p${this.world.process.number}-payouts` });
    else if (work === "release") await this.system.releaseDueOrders();
    else await this.world.work("w1");
    this.world.pump(true);
    return `${armed}: survived`;
  }

  /**
   * (A `worker.pass` now and then.) A worker pauses in the middle of a job (a GC pause, a frozen
   * VM) before one of the first store transactions its handler opens — its reads, core's lease
   * check before a PSP call, its writes after one: its lease runs out meanwhile (core's default
   * job lease, 5 min; no heartbeat beats in a paused process), another worker most often takes the
   * job over and runs it, then the paused one wakes up and goes on. The lease invariant checks
   * what it then does at the PSP.
   */
  private async pauseInJob(): Promise<string> {
    const stall = this.world.pauseNextJob(this.pauses.between(1, 4));
    const slow = this.world.work("w1");
    slow.catch(() => undefined); // awaited below; a crash of the other worker must not leave it unhandled
    const paused = await Promise.race([
      stall.hit,
      slow.then(
        () => undefined,
        () => undefined,
      ),
    ]);
    if (!paused) {
      stall.release();
      const p = await slow;
      this.world.pump(true);
      return `(no job to pause in) pub=${p.relay.published} jobs=${p.jobs.claimed}/${p.jobs.succeeded}ok/${p.jobs.dead}dead`;
    }
    const ms = 300_000 + this.rng.between(1_000, 600_000);
    let other = "nobody took it over";
    try {
      this.world.clock.advance(ms);
      if (this.rng.chance(0.8)) {
        // The PSP is down for the job's call now and then while w1 sleeps: w2's attempt fails
        // (retried later, or dead-lettered once its attempts are spent) without acting.
        const operation = PSP_CALL_OF_JOB[paused];
        if (operation && this.rng.chance(0.5)) this.world.provider.failNext(operation, "5xx-before");
        const p = await this.world.work("w2");
        other = `w2 jobs=${p.jobs.claimed}/${p.jobs.succeeded}ok`;
      }
    } finally {
      stall.release();
    }
    const p = await slow;
    this.world.pump(true);
    return `w1 paused in a job for +${ms}ms, ${other}; w1 woke: jobs=${p.jobs.claimed}/${p.jobs.succeeded}ok lost=${p.jobs.lost}`;
  }

  private async armCrash(): Promise<string> {
    const plan = this.crashPlan(6);
    this.world.process.store.arm(plan);
    return `p${this.world.process.number} will die at ${Simulation.describe(plan)}`;
  }

  /**
   * Quiescence: the PSP settles what it holds (those webhooks facing the network's faults one
   * last time), then no more faults; the clock moves past every
   * deadline, lease, backoff and page lifetime while webhooks are delivered in order and workers
   * run, until nothing happens any more. Then the end-state invariants.
   */
  async quiesce(): Promise<string> {
    const { world } = this;
    this.rng = this.steps.fork();
    world.process.store.arm(undefined);
    world.provider.clearFaults();
    world.sandbox.faults.reset();
    if (world.sandbox.refunds().some((r) => r.status === "pending")) {
      world.sandbox.faults.settleHeldRefunds(this.rng.chance(0.7) ? "succeeded" : "failed");
      // The bank's last word goes over the same network as any other: its webhooks may be lost
      // (then the refund sweeper must find out), late or doubled. After this, no more faults.
      world.pump(true);
    }
    // Every dispute comes to its end: won (the money back, the fee perhaps) or lost.
    for (const d of world.sandbox.disputes()) {
      if (d.status !== "needs_response" && d.status !== "under_review") continue;
      if (this.rng.chance(0.5)) await world.sandbox.winDispute(d.disputeReference, { feeReturned: 0n });
      else await world.sandbox.loseDispute(d.disputeReference);
    }
    const horizon = world.clock.now().getTime() + 80 * 3_600_000;
    let idle = 0;
    for (let round = 0; round < 400; round++) {
      if (world.process.store.dead) world.start();
      await world.sandbox.tick();
      world.pump(false);
      // A refund held since (the automatic refund of a capture, `holdCaptureRefunds`): settled
      // too, its webhook as exposed as the first ones.
      if (world.sandbox.refunds().some((r) => r.status === "pending")) {
        world.sandbox.faults.settleHeldRefunds(this.rng.chance(0.7) ? "succeeded" : "failed");
        world.pump(true);
      }
      const delivered = await world.deliver(Number.POSITIVE_INFINITY, true);
      const pass = await world.work("q");
      world.pump(false);
      let replayed = 0;
      for (const job of await world.system.listDeadLetters()) {
        const times = this.replays.get(job.id) ?? 0;
        if (times >= 2) continue;
        this.replays.set(job.id, times + 1);
        await world.system.replayDeadLetter(job.id);
        replayed++;
      }
      const busy =
        delivered.length +
          pass.relay.published +
          pass.jobs.claimed +
          pass.recovered +
          pass.webhooks +
          pass.sweep.changed +
          pass.sweep.expired +
          pass.payoutsScheduled +
          pass.releases.released +
          replayed +
          world.inFlight() >
        0;
      if (busy)
        this.log(
          "~",
          `quiesce round ${round}`,
          [
            ...delivered,
            `pub=${pass.relay.published} jobs=${pass.jobs.claimed} recovered=${pass.recovered} swept=${pass.sweep.changed}/${pass.sweep.expired} refunds=${pass.refundSweep.settled} payouts=${pass.payoutsScheduled} released=${pass.releases.released} replayed=${replayed}`,
          ].join(" "),
        );
      // A daily or weekly schedule is never quiet: past the horizon every seller is switched to
      // manual (no new due times), and what is already due still runs to its end.
      let unscheduled = 0;
      if (world.clock.now().getTime() >= horizon) {
        for (const sellerId of SELLERS) {
          const account = await world.system.getPayoutSchedule(sellerId);
          if (account.interval === "manual") continue;
          await world.system.configureSellerPayouts(sellerId, { interval: "manual" });
          unscheduled++;
        }
      }
      if (unscheduled) this.log("~", `quiesce round ${round}`, `${unscheduled} schedules set to manual`);
      idle = busy || unscheduled || world.clock.now().getTime() < horizon ? 0 : idle + 1;
      if (idle >= 3) return checkQuiescent(world);
      world.clock.advance(Math.min(6 * 3_600_000, 1_000 * 2 ** round));
    }
    throw new Violation("quiescence", "the system was still busy after 400 rounds");
  }
}

export interface Shrunk {
  /** The shortest failing run found: its step count, the steps it skips, its failure. */
  readonly steps: number;
  readonly skip: ReadonlySet<number>;
  readonly failure: SimulationFailure;
  /** Runs tried while shrinking. */
  readonly tries: number;
}

/**
 * Shrinks a failing run (bonus of issue 15): first the shortest prefix of its steps that still
 * breaks the same invariant (a binary search: the first n steps of a seed are the same for every
 * `steps` ≥ n), then steps left out one chunk at a time (halves, quarters … single steps) while
 * it still breaks it. At most `maxTries` runs.
 */
export async function shrink(
  failure: SimulationFailure,
  options: Omit<SimulationOptions, "seed" | "steps" | "skip"> = {},
  maxTries = 150,
): Promise<Shrunk> {
  let tries = 0;
  const attempt = async (steps: number, skip: ReadonlySet<number>) => {
    tries++;
    try {
      await runSimulation({ ...options, seed: failure.seed, steps, skip });
      return undefined;
    } catch (error) {
      if (error instanceof SimulationFailure && error.invariant === failure.invariant) return error;
      return undefined;
    }
  };
  let best = { steps: failure.steps, skip: new Set<number>() as ReadonlySet<number>, failure };
  // The shortest prefix: fails at `hi`, find the smallest that still fails.
  let lo = 1;
  let hi = failure.steps;
  while (lo < hi && tries < maxTries) {
    const mid = Math.floor((lo + hi) / 2);
    const found = await attempt(mid, best.skip);
    if (found) {
      hi = mid;
      best = { steps: found.steps, skip: best.skip, failure: found };
    } else lo = mid + 1;
  }
  // Then leave steps out, in chunks from half the run down to one step.
  for (
    let size = Math.max(1, Math.floor(best.steps / 2));
    size >= 1 && tries < maxTries;
    size = Math.floor(size / 2)
  ) {
    for (let start = 1; start <= best.steps && tries < maxTries; start += size) {
      const skip = new Set(best.skip);
      for (let i = start; i < start + size && i <= best.steps; i++) skip.add(i);
      if (skip.size === best.skip.size || skip.size >= best.steps) continue;
      const found = await attempt(best.steps, skip);
      if (found) best = { steps: best.steps, skip, failure: found };
    }
    if (size === 1) break;
  }
  // Nothing after the step it now breaks at is needed.
  if (best.failure.steps < best.steps) {
    const steps = best.failure.steps;
    best = { steps, skip: new Set([...best.skip].filter((n) => n <= steps)), failure: best.failure };
  }
  return { ...best, tries };
}
