import { createLedger, isSettlekitError, type StoreTx } from "@settlekit/core";
import { tcpProxy } from "@settlekit/core/testing";
import knexFactory, { type Knex } from "knex";
import { afterEach, describe, expect, it } from "vitest";
import { knexStore } from "../src/index.js";
import { PG_URL, postgresSchema } from "./support/databases.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const event = (id: string) => ({
  id,
  type: "test.event",
  aggregateType: "test",
  aggregateId: id,
  payload: { id },
});

/**
 * A TCP proxy in front of the machine's PostgreSQL that can break connections the way a failover
 * does: all at once (`cutAll`), or the one that sends the next COMMIT — after passing it on (the
 * server commits, the client never hears) or instead of it (the server rolls back).
 */
async function breakingProxy() {
  const target = new URL(PG_URL);
  let onCommit: "after" | "before" | undefined;
  /** Text whose next statement (Parse or simple query) is cut after it reached the server. */
  let onStatement: string | undefined;
  const proxy = await tcpProxy({
    targets: { host: target.hostname, port: Number(target.port || 5432) },
    onClientData(chunk) {
      // A statement sent as Parse ('P') or simple query ('Q') naming `onStatement`: passed on, then cut.
      if (
        onStatement !== undefined &&
        (chunk[0] === 0x50 || chunk[0] === 0x51) &&
        chunk.includes(onStatement)
      ) {
        onStatement = undefined;
        return "forward-then-cut";
      }
      // knex ends a transaction with the simple query `COMMIT;` ('Q' message).
      if (onCommit === undefined || chunk[0] !== 0x51 || !chunk.includes("COMMIT")) return "pass";
      const mode = onCommit;
      onCommit = undefined;
      return mode === "after" ? "forward-then-cut" : "cut";
    },
  });
  const url = new URL(PG_URL);
  url.host = `127.0.0.1:${proxy.port}`;
  return {
    url: url.toString(),
    breakNextCommit(mode: "after" | "before") {
      onCommit = mode;
    },
    breakNextStatementNaming(text: string) {
      onStatement = text;
    },
    get cuts() {
      return proxy.cuts;
    },
    cutAll: () => proxy.cutAll(),
    close: () => proxy.close(),
  };
}

/** A migrated schema of its own, and a knex on it through a {@link breakingProxy}. */
async function throughProxy(options: { failoverRetryMs: number }) {
  const pg = await postgresSchema(2);
  cleanups.push(() => pg.drop());
  await knexStore(pg.knex).migrate();
  const proxy = await breakingProxy();
  cleanups.push(() => proxy.close());
  const knex: Knex = knexFactory({
    client: "pg",
    connection: proxy.url,
    searchPath: [pg.schema],
    pool: { min: 0, max: 4 },
  });
  cleanups.push(() => knex.destroy());
  const retries: unknown[] = [];
  const store = knexStore(knex, { ...options, onTransactionRetry: (error) => void retries.push(error) });
  const count = async (id: string) =>
    Number((await pg.knex("settlekit_outbox").where({ id }).count({ n: "*" }))[0]?.n);
  return { store, proxy, retries, count };
}

describe("a store riding out a failover (failoverRetryMs, Postgres through a proxy that breaks connections)", () => {
  it("transactions whose connections are cut before COMMIT run again as a whole and commit exactly once", async () => {
    const { store, proxy, retries, count } = await throughProxy({ failoverRetryMs: 20_000 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let inside = 0;
    let allInside!: () => void;
    const entered = new Promise<void>((resolve) => {
      allInside = resolve;
    });
    const runs = [0, 0, 0, 0];
    const work = async (tx: StoreTx, i: number) => {
      runs[i]!++;
      await tx.outbox.append([event(`cut_${i}`)], new Date(0));
      if (runs[i] === 1 && ++inside === 4) allInside();
      if (runs[i] === 1) await gate;
      await tx.outbox.append([event(`cut_${i}_2`)], new Date(0));
      return i;
    };
    const running = Promise.all(Array.from({ length: 4 }, (_, i) => store.transaction((tx) => work(tx, i))));
    await entered;
    proxy.cutAll();
    release();
    expect(await running).toEqual([0, 1, 2, 3]);
    expect(runs).toEqual([2, 2, 2, 2]);
    expect(retries.length).toBeGreaterThanOrEqual(4);
    for (let i = 0; i < 4; i++) {
      expect(await count(`cut_${i}`)).toBe(1);
      expect(await count(`cut_${i}_2`)).toBe(1);
    }
  });

  it.each([
    ["after", 1],
    ["before", 0],
  ] as const)(
    "a connection broken with COMMIT sent (%s it reached the server) is STORE_COMMIT_UNKNOWN, never run again",
    async (mode, rows) => {
      const { store, proxy, count } = await throughProxy({ failoverRetryMs: 20_000 });
      let runs = 0;
      proxy.breakNextCommit(mode);
      const outcome = await store
        .transaction(async (tx) => {
          runs++;
          await tx.outbox.append([event(`commit_${mode}`)], new Date(0));
        })
        .then(
          () => "committed",
          (error: unknown) => error,
        );
      expect(proxy.cuts).toBe(1);
      expect(isSettlekitError(outcome, "STORE_COMMIT_UNKNOWN"), String(outcome)).toBe(true);
      expect((outcome as Error).cause).toBeDefined();
      expect(runs).toBe(1);
      // The server may well have it: here it does exactly when COMMIT reached it.
      await expect.poll(() => count(`commit_${mode}`), { timeout: 10_000 }).toBe(rows);
      // The store works on: the next transaction commits.
      await store.transaction((tx) => tx.outbox.append([event(`next_${mode}`)], new Date(0)));
      expect(await count(`next_${mode}`)).toBe(1);
    },
  );

  it("a read-only transaction whose COMMIT broke is simply run again (reading twice is harmless)", async () => {
    const { store, proxy } = await throughProxy({ failoverRetryMs: 20_000 });
    let runs = 0;
    proxy.breakNextCommit("after");
    const pending = await store.transaction(
      async (tx) => {
        runs++;
        return (await tx.outbox.listPending({ limit: 10 })).length;
      },
      { readOnly: true },
    );
    expect(pending).toBe(0);
    expect(runs).toBe(2);
  });

  it("a journal post outside transactions whose connection broke after it reached the server is posted again by reference: once, and it resolves", async () => {
    const { store, proxy } = await throughProxy({ failoverRetryMs: 20_000 });
    const ledger = createLedger(store);
    proxy.breakNextStatementNaming("settlekit_journals");
    const posted = await ledger.post({
      reference: "ha_journal_1",
      kind: "test",
      metadata: {},
      postings: [
        { account: "psp:sandbox:receivable", currency: "USD", direction: "debit", amount: 500n },
        { account: "seller:S1:pending", currency: "USD", direction: "credit", amount: 500n },
      ],
    });
    expect(proxy.cuts).toBe(1);
    // Run again after the cut, it found its own journal: posted once, answered as already there.
    expect(posted.journal.reference).toBe("ha_journal_1");
    expect(posted.created).toBe(false);
    expect((await store.ledger.getBalance("seller:S1:pending", "USD")).balance).toBe(-500n);
    expect(await store.ledger.listJournals({ account: "seller:S1:pending" })).toHaveLength(1);
  });

  it("without failoverRetryMs (the default) a cut connection fails at once with STORE_UNAVAILABLE", async () => {
    const { store, proxy, retries } = await throughProxy({ failoverRetryMs: 0 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const running = store
      .transaction(async (tx) => {
        await tx.outbox.append([event("once")], new Date(0));
        entered();
        await gate;
        await tx.outbox.append([event("once_2")], new Date(0));
      })
      .catch((error: unknown) => error);
    await inside;
    proxy.cutAll();
    release();
    expect(isSettlekitError(await running, "STORE_UNAVAILABLE")).toBe(true);
    expect(retries).toEqual([]);
  });

  it("a database that stays down is STORE_UNAVAILABLE once failoverRetryMs has passed, not before and not much after", async () => {
    const knex = knexFactory({
      client: "pg",
      connection: "postgres://postgres@127.0.0.1:1/test",
      pool: { min: 0, max: 2 },
    });
    cleanups.push(() => knex.destroy());
    const retries: unknown[] = [];
    const store = knexStore(knex, {
      failoverRetryMs: 1_500,
      onTransactionRetry: (e) => void retries.push(e),
    });
    const start = performance.now();
    const outcome = await store
      .transaction((tx) => tx.outbox.append([event("never")], new Date(0)))
      .catch((error: unknown) => error);
    const took = performance.now() - start;
    expect(isSettlekitError(outcome, "STORE_UNAVAILABLE"), String(outcome)).toBe(true);
    expect(took).toBeGreaterThanOrEqual(1_400);
    // The bound plus one attempt (a refused connection fails at once) — generous for a loaded machine.
    expect(took).toBeLessThan(10_000);
    expect(retries.length).toBeGreaterThan(2);
  });
});
