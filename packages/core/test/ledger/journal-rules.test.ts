import { describe, expect, it } from "vitest";
import { accounts, isAccountAddress } from "../../src/ledger/accounts.js";
import { journalBalanceDeltas, sameJournalContent, validateJournal } from "../../src/ledger/journal-rules.js";
import type { Journal, JournalInput } from "../../src/ledger/types.js";

const base: JournalInput = {
  reference: "r1",
  kind: "payment_succeeded",
  postings: [
    { account: "psp:sandbox:receivable", currency: "USD", direction: "debit", amount: 300n },
    { account: "seller:S1:pending", currency: "USD", direction: "credit", amount: 200n },
    { account: "seller:S2:pending", currency: "USD", direction: "credit", amount: 100n },
  ],
};

describe("account addresses", () => {
  it.each([
    "seller:S42:pending",
    "platform:commission",
    "psp:stripe:receivable",
    "bank:settlement",
    "a:b.c-d_e",
  ])("accepts %s", (address) => expect(isAccountAddress(address)).toBe(true));
  it.each([
    "",
    "seller",
    "Seller:S1",
    "seller::pending",
    "seller:S 1",
    "seller:S1:",
    `a:${"x".repeat(200)}`,
    "a:b:c:d:e:f:g",
  ])("rejects %j", (address) => expect(isAccountAddress(address)).toBe(false));
  it("builds the design's chart of accounts", () => {
    expect(accounts.sellerPending("S42")).toBe("seller:S42:pending");
    expect(accounts.pspReceivable("stripe")).toBe("psp:stripe:receivable");
    expect(() => accounts.sellerAvailable("S:42")).toThrow(
      expect.objectContaining({ code: "INVALID_ACCOUNT", param: "sellerId" }),
    );
  });
});

describe("validateJournal", () => {
  it("accepts a balanced journal", () => expect(() => validateJournal(base)).not.toThrow());

  it.each([
    ["empty reference", { ...base, reference: "" }, "INVALID_JOURNAL", "reference"],
    ["long reference", { ...base, reference: "x".repeat(256) }, "INVALID_JOURNAL", "reference"],
    ["empty kind", { ...base, kind: "" }, "INVALID_JOURNAL", "kind"],
    ["one posting", { ...base, postings: base.postings.slice(0, 1) }, "INVALID_JOURNAL", "postings"],
    [
      "non-string metadata",
      { ...base, metadata: { n: 1 as unknown as string } },
      "INVALID_JOURNAL",
      "metadata.n",
    ],
    [
      "bad direction",
      {
        ...base,
        postings: [{ ...base.postings[0]!, direction: "up" as "debit" }, ...base.postings.slice(1)],
      },
      "INVALID_JOURNAL",
      "postings.0.direction",
    ],
    [
      "number amount",
      {
        ...base,
        postings: [{ ...base.postings[0]!, amount: 300 as unknown as bigint }, ...base.postings.slice(1)],
      },
      "INVALID_AMOUNT",
      "postings.0.amount",
    ],
    [
      "amount above the maximum",
      { ...base, postings: [{ ...base.postings[0]!, amount: 2n ** 53n }, ...base.postings.slice(1)] },
      "INVALID_AMOUNT",
      "postings.0.amount",
    ],
    [
      "lowercase currency",
      { ...base, postings: [{ ...base.postings[0]!, currency: "usd" }, ...base.postings.slice(1)] },
      "UNKNOWN_CURRENCY",
      "postings.0.currency",
    ],
    [
      "bad account",
      { ...base, postings: [{ ...base.postings[0]!, account: "nope" }, ...base.postings.slice(1)] },
      "INVALID_ACCOUNT",
      "postings.0.account",
    ],
    ["unbalanced", { ...base, postings: base.postings.slice(0, 2) }, "UNBALANCED_JOURNAL", "postings"],
  ] as [string, JournalInput, string, string][])("rejects %s", (_name, input, code, param) => {
    expect(() => validateJournal(input)).toThrow(expect.objectContaining({ code, param }));
  });

  it("reports the currency and difference of an unbalanced journal", () => {
    try {
      validateJournal({ ...base, postings: base.postings.slice(0, 2) });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ details: { currency: "USD", difference: "100" } });
    }
  });
});

describe("journal content and balance deltas", () => {
  const stored: Journal = { ...base, id: "j1", metadata: { a: "1", b: "2" }, createdAt: new Date(0) };
  it("compares content ignoring posting and metadata order", () => {
    expect(
      sameJournalContent(stored, {
        ...base,
        postings: [...base.postings].reverse(),
        metadata: { b: "2", a: "1" },
      }),
    ).toBe(true);
    expect(sameJournalContent(stored, { ...base, metadata: { a: "1" } })).toBe(false);
    expect(sameJournalContent(stored, { ...base, metadata: { a: "1", b: "2" }, kind: "x" })).toBe(false);
  });

  it("nets postings per account and currency, in one global order", () => {
    const deltas = journalBalanceDeltas([
      { account: "b:x", currency: "USD", direction: "debit", amount: 5n },
      { account: "a:x", currency: "USD", direction: "credit", amount: 7n },
      { account: "b:x", currency: "USD", direction: "credit", amount: 2n },
      { account: "a:x", currency: "EUR", direction: "debit", amount: 4n },
    ]);
    expect(deltas).toEqual([
      { account: "a:x", currency: "EUR", debits: 4n, credits: 0n },
      { account: "a:x", currency: "USD", debits: 0n, credits: 7n },
      { account: "b:x", currency: "USD", debits: 5n, credits: 2n },
    ]);
  });
});
