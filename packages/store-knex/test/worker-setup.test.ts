import type { PaymentProvider, Store } from "@settlekit/core";
import { createPaymentSystem, createWorker, isSettlekitError } from "@settlekit/core";
import knexFactory from "knex";
import { describe, expect, it } from "vitest";
import { knexStore } from "../src/index.js";
import { sqliteKnex } from "./support/databases.js";

/** `store`, calling `onCall` on every transaction and migration check (the worker's attempts). */
function counted(store: Store, onCall: () => void): Store {
  return {
    ...store,
    transaction: (fn, options) => {
      onCall();
      return store.transaction(fn, options);
    },
    assertMigrated: async () => {
      onCall();
      return store.assertMigrated?.();
    },
  };
}

/** A worker over `store`; resolves after it has made `attempts` more store calls. */
function workerOver(store: Store) {
  let calls = 0;
  let waiting: { until: number; resolve(): void } | undefined;
  const errors: unknown[] = [];
  const system = createPaymentSystem({
    store: counted(store, () => {
      calls++;
      if (waiting && calls >= waiting.until) waiting.resolve();
    }),
    // Nothing is pending, so no pass calls the provider.
    providers: [{ id: "unused" } as PaymentProvider],
  });
  const worker = createWorker(system, { idleMs: 1, onError: (error) => errors.push(error) });
  return {
    worker,
    errors,
    attempts: (n: number) =>
      new Promise<void>((resolve) => {
        waiting = { until: calls + n, resolve };
      }),
  };
}

describe("the worker over a store the host set up wrong", () => {
  it("reports an unmigrated store once as STORE_NOT_MIGRATED (not once per pass), then works once migrated", async () => {
    const knex = sqliteKnex();
    const store = knexStore(knex);
    const { worker, errors, attempts } = workerOver(store);
    try {
      const tried = attempts(10);
      worker.start();
      await tried;
      expect(errors).toHaveLength(1);
      expect(isSettlekitError(errors[0], "STORE_NOT_MIGRATED"), String(errors[0])).toBe(true);
      expect(String((errors[0] as Error).message)).toMatch(/run store\.migrate\(\)/);
      await store.migrate();
      await attempts(20);
      expect(errors).toHaveLength(1);
    } finally {
      await worker.stop();
      await knex.destroy();
    }
  });

  it("reports a database that is down once as STORE_UNAVAILABLE while it stays down", async () => {
    const knex = knexFactory({
      client: "pg",
      connection: "postgres://postgres@127.0.0.1:1/test",
      pool: { min: 0, max: 1 },
    });
    const { worker, errors, attempts } = workerOver(knexStore(knex));
    try {
      const tried = attempts(5);
      worker.start();
      await tried;
      expect(errors).toHaveLength(1);
      expect(isSettlekitError(errors[0], "STORE_UNAVAILABLE"), String(errors[0])).toBe(true);
    } finally {
      await worker.stop();
      await knex.destroy();
    }
  });
});
