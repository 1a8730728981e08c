import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeStored, encodeStored } from "../src/idempotency/stored-value.js";

describe("stored results (idempotent replays)", () => {
  it("keeps bigints, Dates, nulls and nested records exactly, leaving undefined fields out", () => {
    const value = {
      amount: 12_345_678_901_234_567_890n,
      createdAt: new Date("2026-03-01T12:00:00.123Z"),
      failureReason: undefined,
      reviewReason: null,
      orders: [{ amount: -1n, refundedAmount: 0n, metadata: { k: "v" } }],
    };
    const stored = JSON.parse(JSON.stringify(encodeStored(value)));
    expect(decodeStored(stored)).toStrictEqual({
      amount: 12_345_678_901_234_567_890n,
      createdAt: new Date("2026-03-01T12:00:00.123Z"),
      reviewReason: null,
      orders: [{ amount: -1n, refundedAmount: 0n, metadata: { k: "v" } }],
    });
  });

  it("does not mistake a host's metadata for a tag", () => {
    const metadata = { $bigint: "5", $date: "2026-01-01T00:00:00.000Z", $$x: "y", plain: "z" };
    const proto = JSON.parse('{"__proto__": "p"}');
    for (const one of [{ $bigint: "5" }, { $date: "2026-01-01T00:00:00.000Z" }, metadata, proto]) {
      const stored = JSON.parse(JSON.stringify(encodeStored({ metadata: one })));
      expect(decodeStored(stored)).toStrictEqual({ metadata: one });
    }
  });

  it("round-trips any JSON-like record with bigints and dates", () => {
    const leaf = fc.oneof(
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.integer(),
      fc.bigInt(),
      fc.date({ noInvalidDate: true }),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        leaf,
        fc.array(tie("node")),
        fc.dictionary(fc.string(), tie("node"), { noNullPrototype: true }),
      ),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        expect(decodeStored(JSON.parse(JSON.stringify(encodeStored(v))))).toStrictEqual(v);
      }),
    );
  });

  it("refuses what JSON cannot keep", () => {
    expect(() => encodeStored({ n: Number.NaN })).toThrow(TypeError);
    expect(() => encodeStored({ f: () => 1 })).toThrow(TypeError);
  });
});
