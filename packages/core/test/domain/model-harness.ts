/**
 * A generic model-based harness (fast-check `fc.commands` / `fc.modelRun`) for the domain
 * machines, and the enumeration of PSP report sequences whose delivery order must not matter.
 */
import fc from "fast-check";
import { expect } from "vitest";
import type { ApplyResult } from "../../src/domain/index.js";
import { isSettlekitError } from "../../src/errors.js";

export type SpecReport<St> = { state: St; reason?: "same" | "stale" } | undefined;

/** The hand-written specification a machine is checked against (undefined = must throw). */
export interface ModelSpec<St, Act, Rep> {
  readonly initial: St;
  readonly actions: readonly Act[];
  readonly reports: readonly Rep[];
  key(state: St): string;
  act(state: St, action: Act): St | undefined;
  report(state: St, proposed: Rep): SpecReport<St>;
  /** Progress of each status dimension. */
  ranks(state: St): readonly number[];
}

/** The implementation under test. */
export interface RealMachine<St, Act, Rep> {
  transition(state: St, action: Act): St;
  apply(state: St, proposed: Rep): ApplyResult<St>;
}

type Box<St> = { state: St };

/** What `run` throws, or undefined when it returns. */
export function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

export function expectIllegal(run: () => unknown): void {
  expect(isSettlekitError(thrownBy(run), "INVALID_STATE_TRANSITION")).toBe(true);
}

/** States reachable from `spec.initial` by explicit actions (reports only follow the same edges). */
export function reachable<St, Act, Rep>(spec: ModelSpec<St, Act, Rep>): Map<string, St> {
  const seen = new Map([[spec.key(spec.initial), spec.initial]]);
  const queue = [spec.initial];
  for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
    for (const action of spec.actions) {
      const next = spec.act(s, action);
      if (next === undefined || seen.has(spec.key(next))) continue;
      seen.set(spec.key(next), next);
      queue.push(next);
    }
  }
  return seen;
}

/**
 * Runs random command sequences (explicit actions and PSP reports) against the real machine and
 * the spec, checking after each: same state as the model; reachable; reports never lower any
 * rank; a terminal state never changes. Returns the keys of every state reached.
 */
export function runModel<St, Act, Rep>(
  spec: ModelSpec<St, Act, Rep>,
  real: RealMachine<St, Act, Rep>,
  numRuns = 300,
): Set<string> {
  const reach = reachable(spec);
  const keyOf = (s: St | undefined) => (s === undefined ? undefined : spec.key(s));
  const terminal = (s: St) =>
    spec.actions.every((a) => [undefined, spec.key(s)].includes(keyOf(spec.act(s, a))));
  const reached = new Set<string>();
  const check = (before: St, m: Box<St>, r: Box<St>, byReport: boolean) => {
    expect(spec.key(r.state)).toBe(spec.key(m.state));
    expect(reach.has(spec.key(m.state))).toBe(true);
    if (terminal(before)) expect(spec.key(m.state)).toBe(spec.key(before));
    const [was, now] = [spec.ranks(before), spec.ranks(m.state)];
    if (byReport) expect(now.every((rank, i) => rank >= (was[i] ?? 0))).toBe(true);
    reached.add(spec.key(m.state));
  };
  const act = (action: Act): fc.Command<Box<St>, Box<St>> => ({
    check: () => true,
    run(m, r) {
      const before = m.state;
      const expected = spec.act(before, action);
      if (expected === undefined) expectIllegal(() => real.transition(r.state, action));
      else [r.state, m.state] = [real.transition(r.state, action), expected];
      check(before, m, r, false);
    },
    toString: () => `transition(${String(action)})`,
  });
  const report = (proposed: Rep): fc.Command<Box<St>, Box<St>> => ({
    check: () => true,
    run(m, r) {
      const before = m.state;
      const expected = spec.report(before, proposed);
      if (expected === undefined) expectIllegal(() => real.apply(r.state, proposed));
      else {
        const result = real.apply(r.state, proposed);
        expect(result.changed).toBe(expected.reason === undefined);
        expect(result.reason).toBe(expected.reason);
        [r.state, m.state] = [result.state, expected.state];
      }
      check(before, m, r, true);
    },
    toString: () => `apply(${String(proposed)})`,
  });
  /** The k-th action the spec allows in the model's state (keeps runs moving into deep states). */
  const step = (k: number): fc.Command<Box<St>, Box<St>> => {
    const legal = (m: Box<St>) => spec.actions.filter((a) => spec.act(m.state, a) !== undefined);
    return {
      check: (m) => legal(m).length > 0,
      run: (m, r) => act(legal(m)[k % legal(m).length] as Act).run(m, r),
      toString: () => `step(${k})`,
    };
  };
  const commands = fc.commands(
    [
      fc.constantFrom(...spec.actions).map(act),
      fc.constantFrom(...spec.reports).map(report),
      fc.nat().map(step),
    ],
    { maxCommands: 60, size: "medium" },
  );
  const setup = () => ({ model: { state: spec.initial }, real: { state: spec.initial } });
  fc.assert(
    fc.property(commands, (cmds) => fc.modelRun(setup, cmds)),
    { numRuns },
  );
  return reached;
}
