import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { SourceEntry } from "../../src/services/reconciliation/sources.js";
import {
  bankStatementSource,
  mappedCsvSource,
  sandboxCsvSource,
  stripeItemizedSource,
} from "../../src/services/reconciliation/sources.js";

/** One byte per chunk: every line and every multi-byte character split across chunks. */
const bytewise = (text: string) => Readable.from([...Buffer.from(text)].map((b) => Uint8Array.of(b)));

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const entry of source) out.push(entry);
  return out;
}

const records = (entries: SourceEntry[]) => entries.flatMap((e) => (e.kind === "record" ? [e.record] : []));

describe("reconciliation sources", () => {
  it("numbers rows by the file's lines when a quoted cell spans lines, whole or split anywhere", async () => {
    const text =
      'reference,type,amount,fee,net,currency,settled_at\n"sbx_a",charge,100,3,97,USD,2026-03-01T12:00:00.000Z\n"sbx\nb",charge,100,3,97,USD,2026-03-01T12:00:00.000Z\nsbx_c,charge,1,0,1,USD\nsbx_d,charge,100,3,97,USD,2026-03-01T12:00:00.000Z\n';
    for (const file of [Readable.from([text]), bytewise(text)]) {
      const entries = await collect(sandboxCsvSource(file));
      expect(entries.map((e) => [e.kind, e.line])).toEqual([
        ["record", 2],
        ["record", 4],
        ["invalid", 5],
        ["record", 6],
      ]);
      expect(records(entries).map((r) => r.recordId)).toEqual(["sbx_a", "sbx\nb", "sbx_d"]);
    }
  });

  it("reads a long text chunk of multi-byte characters whole, however it is parsed in pieces", async () => {
    const lines = ["reference,type,amount,fee,net,currency,settled_at"];
    for (let i = 0; i < 3_000; i += 1)
      lines.push(`"sbx_ü😀${i}",charge,100,3,97,USD,2026-03-01T12:00:00.000Z`);
    const text = `${lines.join("\n")}\n`;
    expect(text.length).toBeGreaterThan(100_000);
    const entries = await collect(sandboxCsvSource(Readable.from([text])));
    expect(entries.every((e) => e.kind === "record")).toBe(true);
    expect(records(entries).map((r) => r.recordId)).toEqual(
      Array.from({ length: 3_000 }, (_, i) => `sbx_ü😀${i}`),
    );
    expect(entries.map((e) => e.line)).toEqual(Array.from({ length: 3_000 }, (_, i) => i + 2));
  });

  it("refuses a file that is not CSV (a quote never closed) with csv-parse's error, after the rows before it", async () => {
    const text =
      'reference,type,amount,fee,net,currency,settled_at\nsbx_a,charge,100,3,97,USD,2026-03-01T12:00:00.000Z\n"sbx_b,charge,100,3,97,USD,2026-03-01\n';
    const seen: SourceEntry[] = [];
    await expect(
      (async () => {
        for await (const entry of sandboxCsvSource(Readable.from([text]))) seen.push(entry);
      })(),
    ).rejects.toMatchObject({ code: "CSV_QUOTE_NOT_CLOSED" });
    expect(seen.map((e) => e.line)).toEqual([2]);
  });

  it("streams a sandbox file split anywhere, with a BOM, quotes and CRLF, keeping line numbers", async () => {
    const text =
      '\uFEFFreference,type,amount,fee,net,currency,settled_at\r\n"sbx_pay_1",charge,12345,388,11957,USD,2026-03-01T12:00:00.000Z\r\n\r\nsbx_re_1,refund,-500,0,-500,JPY,2026-03-01T13:00:00.000Z\r\nsbx_po_1,payout,-1234,0,-1234,kwd,2026-03-01T14:00:00.000Z\r\nsbx_x,charge,1,0,1,USD,yesterday\r\n';
    const entries = await collect(sandboxCsvSource(bytewise(text)));
    expect(entries.map((e) => [e.kind, e.line])).toEqual([
      ["record", 2],
      ["record", 4],
      ["record", 5],
      ["invalid", 6],
    ]);
    expect(records(entries)).toEqual([
      expect.objectContaining({
        recordId: "sbx_pay_1",
        type: "charge",
        amount: 12_345n,
        fee: 388n,
        net: 11_957n,
        pspReference: "sbx_pay_1",
      }),
      expect.objectContaining({
        recordId: "sbx_re_1",
        type: "refund",
        amount: -500n,
        currency: "JPY",
        refundReference: "sbx_re_1",
      }),
      expect.objectContaining({
        recordId: "sbx_po_1",
        type: "payout",
        currency: "KWD",
        payoutReference: "sbx_po_1",
      }),
    ]);
    expect(entries[3]).toMatchObject({
      message: expect.stringMatching(/settled_at "yesterday" is not a date/),
    });
  });

  it("refuses a file whose header lacks a required column, naming it", async () => {
    await expect(
      collect(sandboxCsvSource(bytewise("reference,type,amount\nx,charge,1\n"))),
    ).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      details: { missing: ["fee", "net", "currency", "settled_at"] },
    });
  });

  it("converts Stripe's major units exactly by the currency's exponent and refuses inexact ones", async () => {
    const text = [
      "reporting_category,balance_transaction_id,currency,gross,fee,net,created_utc,automatic_payout_id",
      "charge,txn_1,kwd,9007199254740.993,0.001,9007199254740.992,2026-03-01 12:00:00,po_k",
      "charge,txn_2,jpy,5000,150,4850,2026-03-01 12:00:00,po_j",
      "charge,txn_3,jpy,50.5,0,50.5,2026-03-01 12:00:00,po_1",
      "refund,txn_4,usd,-10.00,0.00,-10.00,2026-03-01 12:00:00,",
    ].join("\n");
    const entries = await collect(stripeItemizedSource(bytewise(text)));
    expect(records(entries).map((r) => [r.recordId, r.type, r.amount, r.fee, r.net, r.currency])).toEqual([
      ["txn_1", "charge", 9_007_199_254_740_993n, 1n, 9_007_199_254_740_992n, "KWD"],
      ["txn_2", "charge", 5_000n, 150n, 4_850n, "JPY"],
      ["txn_4", "refund", -1_000n, 0n, -1_000n, "USD"],
      // The bank payout the rows name, as a record of its own (net −Σ).
      ["po_k", "bank_payout", -9_007_199_254_740_992n, 0n, -9_007_199_254_740_992n, "KWD"],
      ["po_j", "bank_payout", -4_850n, 0n, -4_850n, "JPY"],
    ]);
    expect(entries.find((e) => e.kind === "invalid")).toMatchObject({
      line: 4,
      message: expect.stringMatching(/gross "50.5"/),
    });
  });

  it("reads any CSV through a column mapping, and a bank statement", async () => {
    const text =
      "id;kind;value;ccy;when;ref\nA1;sale;12.34;USD;2026-03-01;pi_1\nA2;back;-1.000;KWD;2026-03-01;pi_2\nA3;gift;1;USD;2026-03-01;pi_3\n";
    // csv-parse's default delimiter is a comma: a semicolon file is one column per line.
    const wrong = await collect(
      mappedCsvSource(bytewise(text), {
        recordId: "id",
        amount: "value",
        currency: "ccy",
        createdAt: "when",
      }),
    ).catch((e) => e);
    expect(wrong).toMatchObject({ code: "VALIDATION_FAILED" });
    const commas = text.replaceAll(";", ",");
    const entries = await collect(
      mappedCsvSource(bytewise(commas), {
        recordId: "id",
        type: "kind",
        typeValues: { sale: "charge", back: "refund" },
        amount: "value",
        currency: "ccy",
        createdAt: "when",
        pspReference: "ref",
        amounts: "major",
      }),
    );
    expect(records(entries).map((r) => [r.recordId, r.type, r.amount, r.net, r.pspReference])).toEqual([
      ["A1", "charge", 1_234n, 1_234n, "pi_1"],
      ["A2", "refund", -1_000n, -1_000n, "pi_2"],
    ]);
    expect(entries.find((e) => e.kind === "invalid")).toMatchObject({
      line: 4,
      message: 'unknown type "gift"',
    });
    const bank = await collect(
      bankStatementSource(
        bytewise(
          "date,amount,currency,reference\n2026-03-03,97.29,USD,po_1\n2026-03-03,1.5,XTS1,po_2\n2026-03-03,5,JPY\n",
        ),
      ),
    );
    expect(bank).toEqual([
      {
        kind: "line",
        entry: {
          line: 2,
          date: new Date("2026-03-03T00:00:00Z"),
          amount: 9_729n,
          currency: "USD",
          reference: "po_1",
        },
      },
      { kind: "invalid", line: 3, message: 'unknown currency "XTS1"' },
      { kind: "invalid", line: 4, message: "expected 4 columns, found 3" },
    ]);
  });

  it("stops reading when the consumer stops, without leaving the file half-read forever", async () => {
    const lines = ["reference,type,amount,fee,net,currency,settled_at"];
    for (let i = 0; i < 50_000; i++) lines.push(`sbx_${i},charge,100,3,97,USD,2026-03-01T12:00:00.000Z`);
    let n = 0;
    for await (const _entry of sandboxCsvSource(Readable.from(lines.map((l) => `${l}\n`)))) {
      if (++n === 10) break;
    }
    expect(n).toBe(10);
  });
});
