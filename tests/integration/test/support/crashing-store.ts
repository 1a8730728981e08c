import type { Store } from "@settlekit/core";

/** What a "dead" process throws: the test tells it apart from any real failure. */
export class Crash extends Error {}

/**
 * A store whose process "dies" around its `at`-th transaction: `after` — the commit happened but
 * the caller never hears of it; `before` — the process died first, so it never happened. With
 * `staysDead`, every later transaction throws too (the process does not come back by itself).
 */
export function crashing(
  store: Store,
  at: number,
  when: "before" | "after",
  { staysDead = false }: { readonly staysDead?: boolean } = {},
): Store {
  let calls = 0;
  return {
    ...store,
    dialect: store.dialect,
    ledger: store.ledger,
    migrate: () => store.migrate(),
    migrateDown: () => store.migrateDown(),
    async transaction(fn, options) {
      calls++;
      if (staysDead && calls > at) throw new Crash(`dead since transaction ${at}`);
      if (calls === at && when === "before") throw new Crash(`crash before transaction ${at}`);
      const result = await store.transaction(fn, options);
      if (calls === at) throw new Crash(`crash after transaction ${at}`);
      return result;
    },
  };
}

/** {@link crashing} that stays dead after its crash. */
export const dyingAt = (store: Store, at: number, when: "before" | "after"): Store =>
  crashing(store, at, when, { staysDead: true });
