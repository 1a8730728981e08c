import { describe, expect, it } from "vitest";
import { canonicalJson, requestFingerprint } from "../../src/idempotency/fingerprint.js";
import { backoffDelay } from "../../src/jobs/backoff.js";
import { manualClock } from "../../src/runtime/clock.js";
import { uuidv7 } from "../../src/runtime/ids.js";

describe("backoffDelay", () => {
  it("doubles from the base up to the cap without jitter", () => {
    const policy = { baseMs: 100, maxMs: 1_000, jitter: 0 };
    expect([1, 2, 3, 4, 5, 50].map((n) => backoffDelay(n, policy))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });
  it("draws full jitter below the ceiling", () => {
    expect(backoffDelay(3, { baseMs: 100 }, () => 0)).toBe(400);
    expect(backoffDelay(3, { baseMs: 100 }, () => 0.5)).toBe(200);
    expect(backoffDelay(3, { baseMs: 100 }, () => 0.999999)).toBe(0);
  });
});

describe("uuidv7", () => {
  it("is an RFC 9562 version 7 UUID carrying its timestamp", () => {
    const id = uuidv7(0x0189_abcd_ef01);
    expect(id).toMatch(/^0189abcd-ef01-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(Array.from({ length: 1000 }, () => uuidv7())).size).toBe(1000);
  });
  it("sorts by time across milliseconds", () => {
    expect(uuidv7(1_000) < uuidv7(1_001)).toBe(true);
    expect(uuidv7(0x00ff_ffff) < uuidv7(0x0100_0000)).toBe(true); // the carry between the halves
  });
  it("encodes the whole 48-bit range and stays unique across refills of its random pool", () => {
    expect(uuidv7(2 ** 48 - 1)).toMatch(/^ffffffff-ffff-7/);
    expect(uuidv7(0)).toMatch(/^00000000-0000-7/);
    const ids = Array.from({ length: 5_000 }, () => uuidv7(42));
    expect(new Set(ids).size).toBe(5_000);
    // All 74 random bits vary: every hex position after the version nibble takes many values.
    for (const position of [15, 16, 17, 20, 21, 22, 24, 35]) {
      expect(new Set(ids.map((id) => id[position])).size).toBeGreaterThan(3);
    }
  });
});

describe("request fingerprints", () => {
  it("ignore key order and undefined members, and keep bigints exact", () => {
    expect(canonicalJson({ b: 1, a: [1n, { d: undefined, c: "x" }] })).toBe('{"a":["1",{"c":"x"}],"b":1}');
    expect(requestFingerprint({ a: 1, b: 2 })).toBe(requestFingerprint({ b: 2, a: 1 }));
    expect(requestFingerprint({ a: 1 })).not.toBe(requestFingerprint({ a: 2 }));
    expect(requestFingerprint({ amount: 2n ** 80n })).not.toBe(
      requestFingerprint({ amount: 2n ** 80n + 1n }),
    );
  });
});

describe("manualClock", () => {
  it("moves only when told", () => {
    const clock = manualClock(new Date(0));
    clock.advance(1_500);
    expect(clock.now().getTime()).toBe(1_500);
    clock.set(new Date(10));
    expect(clock.now().getTime()).toBe(10);
  });
});
