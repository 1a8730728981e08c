import type { Store } from "@settlekit/core";

/** What a "dead" process throws: the test tells it apart from any real failure. */
export class Crash extends Error {}

/**
 * A store whose process "dies" around its `at`-th transaction: `after` — the commit happened but
 * the caller never hears of it; `before` — the process died first, so it never happened.
 */
export function crashing(store: Store, at: number, when: "before" | "after"): Store {
  let calls = 0;
  return {
    ...store,
    dialect: store.dialect,
    ledger: store.ledger,
    migrate: () => store.migrate(),
    migrateDown: () => store.migrateDown(),
    async transaction(fn, options) {
      calls++;
      if (calls === at && when === "before") throw new Crash(`crash before transaction ${at}`);
      const result = await store.transaction(fn, options);
      if (calls === at) throw new Crash(`crash after transaction ${at}`);
      return result;
    },
  };
}

/**
 * A store whose process dies at its `at`-th transaction (`before` it ran or `after` it committed)
 * and stays dead: every later transaction throws too.
 */
export function dyingAt(store: Store, at: number, when: "before" | "after"): Store {
  let calls = 0;
  return {
    ...store,
    dialect: store.dialect,
    ledger: store.ledger,
    migrate: () => store.migrate(),
    migrateDown: () => store.migrateDown(),
    async transaction(fn, options) {
      calls++;
      if (calls > at || (calls === at && when === "before")) throw new Crash(`dead at transaction ${at}`);
      const result = await store.transaction(fn, options);
      if (calls === at) throw new Crash(`crash after transaction ${at}`);
      return result;
    },
  };
}
