import { ErrorCodes, SettlekitError } from "../errors.js";

/** One row of a transition table: `action` may fire from any state in `from` and always lands in `to`. */
export interface TransitionRule<S extends string> {
  readonly from: readonly S[];
  readonly to: S;
}

/**
 * Transitions as data: action name → rule. An "action" is what triggers a transition (named so as not
 * to clash with the outbox's domain events). `canTransition(from, to)` holds iff some rule has
 * `from` in its `from` list and `to` as its target.
 */
export type TransitionTable<S extends string, A extends string> = Readonly<Record<A, TransitionRule<S>>>;

export interface StateMachineOptions<S extends string, A extends string> {
  /** Machine name, used in error messages and in `details.machine`. */
  readonly name: string;
  /**
   * Progress of every state (the keys are the machine's state list). `apply` never lowers it: a
   * proposed state of lower rank is stale. States that exclude each other may share a rank.
   */
  readonly rank: Readonly<Record<S, number>>;
  /**
   * Actions whose rules go to a lower rank (retries). Only `transition`/`assertTransition` perform
   * them; `apply` treats their targets as stale. Any rank-lowering rule not listed here, or a listed
   * action that does not lower rank, is a bug in the table and `defineStateMachine` throws.
   */
  readonly rewinds?: readonly A[];
  /**
   * Actions that are decisions, never outcomes: only `transition`/`assertTransition` perform them,
   * whatever their rank, and `apply` judges a proposal without their rules (an operator approving
   * a payment under review; the same target reported by a PSP is illegal there and throws).
   */
  readonly decisions?: readonly A[];
}

/**
 * Outcome of {@link StateMachine.apply}: either the state moved (`changed: true`) or the proposal
 * was ignored because it equals the current state (`same`) or lies behind it (`stale`).
 */
export type ApplyResult<S> =
  | { readonly state: S; readonly changed: true; readonly reason?: undefined }
  | { readonly state: S; readonly changed: false; readonly reason: "same" | "stale" };

/** A state machine built by {@link defineStateMachine}; pure, stateless and safe to share. */
export interface StateMachine<S extends string, A extends string> {
  readonly name: string;
  /** Every state, in the order of the `rank` option. */
  readonly states: readonly S[];
  /** Every action of the table. */
  readonly actions: readonly A[];
  /** Narrows an untrusted value (database row, PSP payload) to a state of this machine. */
  isState(value: unknown): value is S;
  /** The progress rank of `state` (see {@link StateMachineOptions.rank}). */
  rank(state: S): number;
  /** The states `from` may move to, self-loops included. */
  targets(from: S): readonly S[];
  canTransition(from: S, to: S): boolean;
  /** @throws {SettlekitError} `INVALID_STATE_TRANSITION`, details `{ machine, from, to }`. */
  assertTransition(from: S, to: S): void;
  /** Whether `action` may fire in `current`. */
  can(current: S, action: A): boolean;
  /**
   * Performs an explicit action (the only way to retry) and returns the new state.
   * @throws {SettlekitError} `INVALID_STATE_TRANSITION`, details `{ machine, from, to, action }`.
   */
  transition(current: S, action: A): S;
  /** True when no rule leaves `state` for a different state (self-loops do not count). */
  isTerminal(state: S): boolean;
  /**
   * Applies a state reported from outside (PSP webhook, poll), where delivery is late, duplicated
   * or out of order: equal → `same`; lower rank → `stale` (ignored, even if a rewind rule exists);
   * otherwise the table without its `decisions` decides, and a not-stale but illegal proposal throws.
   * @throws {SettlekitError} `INVALID_STATE_TRANSITION`, details `{ machine, from, to }`.
   */
  apply(current: S, proposed: S): ApplyResult<S>;
}

function illegal(machine: string, from: string, to: string | undefined, action?: string): SettlekitError {
  const by = action === undefined ? "" : ` by "${action}"`;
  const details: Record<string, unknown> = { machine, from, to };
  if (action !== undefined) details.action = action;
  return new SettlekitError(
    ErrorCodes.INVALID_STATE_TRANSITION,
    `${machine} cannot go from "${from}" to "${to ?? "?"}"${by}.`,
    { details },
  );
}

/**
 * Builds a {@link StateMachine} from a transition table and progress ranks. Checks the table once,
 * at definition: every state named by a rule has a rank, and rank-lowering rules are exactly the
 * ones of the declared `rewinds` actions (so `apply` can never be asked to undo progress).
 */
export function defineStateMachine<S extends string, A extends string>(
  table: TransitionTable<S, A>,
  options: StateMachineOptions<S, A>,
): StateMachine<S, A> {
  const { name, rank } = options;
  const states = Object.keys(rank) as S[];
  const actions = Object.keys(table) as A[];
  const rewinds = new Set<A>(options.rewinds ?? []);
  const decisions = new Set<A>(options.decisions ?? []);
  const isState = (value: unknown): value is S => typeof value === "string" && Object.hasOwn(rank, value);
  const edges = new Map<S, Set<S>>(states.map((s) => [s, new Set<S>()]));
  /** The edges a report may follow: every rule but the decisions'. */
  const reportEdges = new Map<S, Set<S>>(states.map((s) => [s, new Set<S>()]));
  for (const action of actions) {
    const rule = table[action];
    for (const from of rule.from) {
      if (!isState(from) || !isState(rule.to)) throw new Error(`${name}.${action}: state without a rank`);
      const lowers = rank[rule.to] < rank[from];
      if (lowers !== rewinds.has(action)) {
        throw new Error(`${name}.${action}: ${from} → ${rule.to} must lower rank iff listed in rewinds`);
      }
      edges.get(from)?.add(rule.to);
      if (!decisions.has(action)) reportEdges.get(from)?.add(rule.to);
    }
  }
  const canTransition = (from: S, to: S): boolean => edges.get(from)?.has(to) ?? false;
  const machine: StateMachine<S, A> = {
    name,
    states,
    actions,
    isState,
    rank: (state) => rank[state],
    targets: (from) => [...(edges.get(from) ?? [])],
    canTransition,
    assertTransition(from, to) {
      if (!canTransition(from, to)) throw illegal(name, from, to);
    },
    can: (current, action) => Object.hasOwn(table, action) && table[action].from.includes(current),
    transition(current, action) {
      const rule = Object.hasOwn(table, action) ? table[action] : undefined;
      if (rule === undefined || !rule.from.includes(current)) throw illegal(name, current, rule?.to, action);
      return rule.to;
    },
    isTerminal: (state) => [...(edges.get(state) ?? [])].every((to) => to === state),
    apply(current, proposed) {
      if (proposed === current) return { state: current, changed: false, reason: "same" };
      if (isState(proposed) && isState(current) && rank[proposed] < rank[current]) {
        return { state: current, changed: false, reason: "stale" };
      }
      if (!(reportEdges.get(current)?.has(proposed) ?? false)) throw illegal(name, current, proposed);
      return { state: proposed, changed: true };
    },
  };
  return Object.freeze(machine);
}
