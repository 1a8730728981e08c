import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS } from "../../src/deps.js";
import { makeWorld } from "../support/world.js";

describe("defaults, resolved once when the system is created", () => {
  it("fills in what the options leave out, and keeps what they say", () => {
    const plain = makeWorld({ backoff: undefined }).system.deps;
    expect(plain.backoff).toEqual({ baseMs: 1_000, maxMs: 3_600_000, jitter: 1 });
    expect(plain.settings).toEqual(DEFAULT_SETTINGS);
    expect(plain.disputeFees).toBe("seller");

    const tuned = makeWorld({ backoff: { baseMs: 50, jitter: 0, maxMs: undefined }, paymentTtlMs: 60_000 })
      .system.deps;
    expect(tuned.backoff).toEqual({ baseMs: 50, maxMs: 3_600_000, jitter: 0 });
    expect(tuned.settings.paymentTtlMs).toBe(60_000);
  });
});
