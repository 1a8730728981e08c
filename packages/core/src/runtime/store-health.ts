import type { Store, StoreHealth } from "../ports/store.js";

/**
 * `store.health()`, or for a store without it (a host's own adapter, a test double), what a
 * read-only transaction shows: reachable and taken as writable when it works. Never throws.
 */
export async function storeHealth(store: Store): Promise<StoreHealth> {
  if (store.health) return store.health();
  const start = performance.now();
  const latencyMs = () => Math.round((performance.now() - start) * 10) / 10;
  try {
    await store.transaction(async () => undefined, { readOnly: true });
    return { reachable: true, writable: true, latencyMs: latencyMs(), replication: null };
  } catch (error) {
    const reason = (error as { code?: unknown } | null)?.code;
    return {
      reachable: false,
      writable: false,
      latencyMs: latencyMs(),
      replication: null,
      reason: typeof reason === "string" ? reason : "the store failed a read",
    };
  }
}
