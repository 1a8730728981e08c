/**
 * Shuffled-delivery property: PSP reports arrive late, duplicated and out of order, yet for some
 * report sequences the final state must not depend on the order. Which sequences those are is
 * derived from the hand-written spec; the property then checks the real machine against them.
 */
import fc from "fast-check";
import { expect } from "vitest";
import type { ModelSpec, RealMachine } from "./model-harness.js";

/** A sequence of reports, legal and state-changing in order from `start`, ending in `final`. */
export interface OrderlessSequence<St, Rep> {
  readonly start: St;
  readonly reports: readonly Rep[];
  readonly final: St;
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

/** Folds reports through the spec; undefined when one of them would throw. */
function specFold<St, Act, Rep>(spec: ModelSpec<St, Act, Rep>, start: St, reports: readonly Rep[]) {
  let state: St | undefined = start;
  for (const report of reports) state = state === undefined ? undefined : spec.report(state, report)?.state;
  return state;
}

/**
 * Every in-order sequence (2..maxLength reports, each one moving the state) from each start whose
 * every permutation is accepted by the spec and ends in the same state as in-order delivery.
 */
export function orderlessSequences<St, Act, Rep>(
  spec: ModelSpec<St, Act, Rep>,
  starts: readonly St[],
  maxLength = 4,
): OrderlessSequence<St, Rep>[] {
  const found: OrderlessSequence<St, Rep>[] = [];
  const extend = (start: St, state: St, reports: Rep[]) => {
    if (reports.length >= 2) {
      const finals = permutations(reports).map((order) => specFold(spec, start, order));
      const ok = finals.every((f) => f !== undefined && spec.key(f) === spec.key(state));
      if (ok) found.push({ start, reports: [...reports], final: state });
    }
    if (reports.length === maxLength) return;
    for (const report of spec.reports) {
      const next = spec.report(state, report);
      if (next !== undefined && next.reason === undefined) extend(start, next.state, [...reports, report]);
    }
  };
  for (const start of starts) extend(start, start, []);
  return found;
}

/**
 * For random sequences from `sequences`, delivered shuffled and with duplicates, the real machine's
 * `apply` ends where in-order delivery ends, which is the spec's final state.
 */
export function checkShuffledDelivery<St, Act, Rep>(
  spec: ModelSpec<St, Act, Rep>,
  real: RealMachine<St, Act, Rep>,
  sequences: readonly OrderlessSequence<St, Rep>[],
): void {
  const delivery = fc.constantFrom(...sequences).chain((seq) =>
    fc.array(fc.constantFrom(...seq.reports), { maxLength: 4 }).chain((dups) => {
      const all = [...seq.reports, ...dups];
      const shuffled = fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
      return fc.tuple(fc.constant(seq), shuffled);
    }),
  );
  const deliver = (start: St, reports: readonly Rep[]) =>
    reports.reduce((state, report) => real.apply(state, report).state, start);
  fc.assert(
    fc.property(delivery, ([seq, delivered]) => {
      const inOrder = deliver(seq.start, seq.reports);
      expect(spec.key(inOrder)).toBe(spec.key(seq.final));
      expect(spec.key(deliver(seq.start, delivered))).toBe(spec.key(seq.final));
    }),
    { numRuns: 500 },
  );
}
