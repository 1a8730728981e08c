import { describe, expect, it } from "vitest";
import { defineStateMachine } from "../../src/domain/index.js";
import { isSettlekitError, type SettlekitError } from "../../src/errors.js";

type S = "a" | "b" | "c" | "d";
type A = "go" | "back" | "finish" | "loop";

const toy = defineStateMachine<S, A>(
  {
    go: { from: ["a"], to: "b" },
    back: { from: ["b"], to: "a" },
    finish: { from: ["a", "b"], to: "c" },
    loop: { from: ["c"], to: "c" },
  },
  { name: "toy", rank: { a: 0, b: 1, c: 2, d: 2 }, rewinds: ["back"] },
);

function caught(run: () => unknown): SettlekitError {
  try {
    run();
  } catch (error) {
    if (isSettlekitError(error, "INVALID_STATE_TRANSITION")) return error;
    throw error;
  }
  throw new Error("expected INVALID_STATE_TRANSITION");
}

describe("defineStateMachine", () => {
  it("derives states, actions and targets from the table", () => {
    expect(toy.name).toBe("toy");
    expect(toy.states).toEqual(["a", "b", "c", "d"]);
    expect(toy.actions).toEqual(["go", "back", "finish", "loop"]);
    expect(toy.targets("a")).toEqual(["b", "c"]);
    expect(toy.targets("b")).toEqual(["a", "c"]);
    expect(toy.targets("d")).toEqual([]);
    expect([toy.canTransition("a", "b"), toy.canTransition("b", "d"), toy.canTransition("c", "c")]).toEqual([
      true,
      false,
      true,
    ]);
    expect(Object.isFrozen(toy)).toBe(true);
  });

  it("asserts transitions with machine, from and to in the details", () => {
    expect(() => toy.assertTransition("a", "c")).not.toThrow();
    const error = caught(() => toy.assertTransition("c", "a"));
    expect(error.details).toEqual({ machine: "toy", from: "c", to: "a" });
    expect(error.message).toBe('toy cannot go from "c" to "a".');
  });

  it("performs actions and rejects those that may not fire", () => {
    expect(toy.transition("a", "go")).toBe("b");
    expect(toy.transition("b", "back")).toBe("a");
    expect(toy.can("c", "go")).toBe(false);
    expect(caught(() => toy.transition("c", "go")).details).toEqual({
      machine: "toy",
      from: "c",
      to: "b",
      action: "go",
    });
    const unknown = caught(() => toy.transition("a", "toString" as A));
    expect(unknown.details).toEqual({ machine: "toy", from: "a", to: undefined, action: "toString" });
  });

  it("calls a state terminal when no rule leaves it for another state", () => {
    expect(toy.states.filter((s) => toy.isTerminal(s))).toEqual(["c", "d"]);
  });

  it("narrows untrusted values to states", () => {
    expect(["a", "d", "e", "constructor", 1, null].map((v) => toy.isState(v))).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
  });

  it("apply: ignores same and stale, moves forward, throws on forward-illegal", () => {
    expect(toy.apply("b", "b")).toEqual({ state: "b", changed: false, reason: "same" });
    expect(toy.apply("c", "c")).toEqual({ state: "c", changed: false, reason: "same" });
    expect(toy.apply("b", "a")).toEqual({ state: "b", changed: false, reason: "stale" }); // a rewind, not via apply
    expect(toy.apply("c", "b")).toEqual({ state: "c", changed: false, reason: "stale" });
    expect(toy.apply("a", "b")).toEqual({ state: "b", changed: true });
    expect(toy.apply("a", "c")).toEqual({ state: "c", changed: true });
    expect(caught(() => toy.apply("a", "d")).details).toEqual({ machine: "toy", from: "a", to: "d" });
    expect(caught(() => toy.apply("c", "d")).details).toEqual({ machine: "toy", from: "c", to: "d" }); // same rank
    expect(caught(() => toy.apply("a", "zz" as S)).details).toEqual({ machine: "toy", from: "a", to: "zz" });
  });

  it("performs decisions by transition only: apply judges without their rules", () => {
    const rank = { open: 0, held: 1, done: 1 };
    const table = {
      hold: { from: ["open"], to: "held" },
      finish: { from: ["open"], to: "done" },
      approve: { from: ["held"], to: "done" },
    } as const;
    const m = defineStateMachine<"open" | "held" | "done", keyof typeof table>(table, {
      name: "m",
      rank,
      decisions: ["approve"],
    });
    expect(m.canTransition("held", "done")).toBe(true);
    expect(m.transition("held", "approve")).toBe("done");
    expect(caught(() => m.apply("held", "done")).details).toEqual({ machine: "m", from: "held", to: "done" });
    expect(m.apply("open", "done")).toEqual({ state: "done", changed: true });
    const plain = defineStateMachine<"open" | "held" | "done", keyof typeof table>(table, {
      name: "m",
      rank,
    });
    expect(plain.apply("held", "done")).toEqual({ state: "done", changed: true });
  });

  it("rejects tables whose rank-lowering rules and rewinds disagree", () => {
    const rank = { x: 0, y: 1 };
    const lowering = { up: { from: ["x"], to: "y" }, down: { from: ["y"], to: "x" } } as const;
    expect(() => defineStateMachine<"x" | "y", "up" | "down">(lowering, { name: "m", rank })).toThrow(
      "m.down: y → x must lower rank iff listed in rewinds",
    );
    expect(() =>
      defineStateMachine<"x" | "y", "up" | "down">(lowering, { name: "m", rank, rewinds: ["down", "up"] }),
    ).toThrow("m.up: x → y must lower rank iff listed in rewinds");
    expect(defineStateMachine(lowering, { name: "m", rank, rewinds: ["down"] }).canTransition("y", "x")).toBe(
      true,
    );
    const unranked = { up: { from: ["x"], to: "z" } } as const;
    expect(() =>
      defineStateMachine<"x" | "y" | "z", "up">(unranked, { name: "m", rank: rank as never }),
    ).toThrow("m.up: state without a rank");
  });
});
