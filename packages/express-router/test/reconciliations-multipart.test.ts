import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import type { ReconcileInput } from "@settlekit/core";
import express from "express";
import request from "supertest";
import { describe, expect, it, vi } from "vitest";
import { reconciliationSchema } from "../src/schemas.js";
import { streamedPost } from "./support/streamed-post.js";
import { asOperator, MATRIX, suiteWorld } from "./support/world.js";

/** A settlement file with bank payouts (a mapped CSV: the sandbox's own format has none). */
const MAPPING = JSON.stringify({
  record_id: "id",
  type: "type",
  amount: "amt",
  fee: "fee",
  net: "net",
  currency: "cur",
  created_at: "when",
  bank_payout_reference: "po",
});
const SETTLEMENT = [
  "id,type,amt,fee,net,cur,when,po",
  "x1,charge,1000,30,970,USD,2026-02-20T09:00:00Z,po_1",
  "x2,charge,1000,30,970,USD,2026-02-20T10:00:00Z,po_1",
  "po_1,bank_payout,-1940,0,-1940,USD,2026-02-20T12:00:00Z,",
  "x3,charge,500,0,500,USD,2026-02-20T11:00:00Z,po_2",
  "po_2,bank_payout,-500,0,-500,USD,2026-02-20T12:00:00Z,",
].join("\n");
/** po_1 arrived; po_2 did not. */
const BANK = ["date,amount,currency,reference", "2026-02-21,19.40,USD,po_1", "2026-02-21,3.00,USD,rent"].join(
  "\n",
);

const uploadPath = (day: number) => {
  const pad = (n: number) => String(n).padStart(2, "0");
  const query = new URLSearchParams({
    provider: "sandbox",
    format: "mapped_csv",
    period_from: `2026-02-${pad(day)}`,
    period_to: `2026-02-${pad(day + 1)}`,
    mapping: MAPPING,
  });
  return `/v1/reconciliations?${query}`;
};
const onDay = (text: string, day: number) =>
  text.replaceAll("2026-02-20", `2026-02-${String(day).padStart(2, "0")}`);

const spools = () => readdirSync(tmpdir()).filter((name) => name.startsWith("settlekit-upload-"));

describe.each(MATRIX)("reconciliation of a multipart upload on %s over %s", (dialect, mode) => {
  const world = suiteWorld(dialect, { mode, router: { bodyLimit: 1024 } });

  const runs = async () => (await request(world.app).get("/v1/reconciliations").set(asOperator)).body.data;
  const bankLeg = async (id: string) => {
    const res = await request(world.app).get(`/v1/reconciliations/${id}?limit=100`).set(asOperator);
    return res.body.items.data
      .filter((i: { leg: string }) => i.leg === "psp_bank")
      .map((i: { reference: string; class: string }) => [i.reference, i.class]);
  };

  it("reconciles the settlement and the bank statement of one form (201): the three-way match sees the statement", async () => {
    const res = await request(world.app)
      .post(uploadPath(10))
      .set(asOperator)
      .attach("settlement", Buffer.from(onDay(SETTLEMENT, 10)), "settlement.csv")
      .attach("bank", Buffer.from(onDay(BANK, 10).replaceAll("2026-02-21", "2026-02-11")), "statement.csv");
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(reconciliationSchema.parse(res.body)).toMatchObject({ record_count: 5, bank_line_count: 2 });
    expect(await bankLeg(res.body.id)).toEqual([
      ["po_1", "matched"],
      ["po_2", "missing_at_bank"],
    ]);
    // The same two files again: the same run.
    const again = await request(world.app)
      .post(uploadPath(10))
      .set(asOperator)
      .attach("settlement", Buffer.from(onDay(SETTLEMENT, 10)), "settlement.csv")
      .attach("bank", Buffer.from(onDay(BANK, 10).replaceAll("2026-02-21", "2026-02-11")), "statement.csv");
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(res.body.id);
  });

  it("takes the bank statement sent before the settlement (spooled to a temporary file, removed after)", async () => {
    const res = await request(world.app)
      .post(uploadPath(12))
      .set(asOperator)
      .attach("bank", Buffer.from(onDay(BANK, 12).replaceAll("2026-02-21", "2026-02-13")), "statement.csv")
      .attach("settlement", Buffer.from(onDay(SETTLEMENT, 12)), "settlement.csv");
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ record_count: 5, bank_line_count: 2 });
    expect(await bankLeg(res.body.id)).toEqual([
      ["po_1", "matched"],
      ["po_2", "missing_at_bank"],
    ]);
    expect(spools()).toEqual([]);
  });

  it("reconciles a form with the settlement only as the raw body would (no statement: no bank leg)", async () => {
    const form = await request(world.app)
      .post(uploadPath(14))
      .set(asOperator)
      .attach("settlement", Buffer.from(onDay(SETTLEMENT, 14)), "settlement.csv");
    expect(form.status, JSON.stringify(form.body)).toBe(201);
    expect(form.body).toMatchObject({ record_count: 5, bank_line_count: 0 });
    expect(await bankLeg(form.body.id)).toEqual([]);
    const raw = await request(world.app)
      .post(uploadPath(14))
      .set(asOperator)
      .set("Content-Type", "text/csv")
      .send(onDay(SETTLEMENT, 14));
    // The same bytes as the body: the same source, so the same run.
    expect(raw.status).toBe(200);
    expect(raw.body.id).toBe(form.body.id);
  });

  it("answers a form without a settlement part, with an unknown or repeated part, a text part or a broken body with 400 and the param", async () => {
    const before = (await runs()).length;
    const cases: [string, request.Test, string | undefined][] = [
      [
        "bank only",
        request(world.app).post(uploadPath(16)).attach("bank", Buffer.from(BANK), "statement.csv"),
        "settlement",
      ],
      [
        "unknown part",
        request(world.app)
          .post(uploadPath(16))
          .attach("settlement", Buffer.from(SETTLEMENT), "settlement.csv")
          .attach("receipts", Buffer.from("x"), "receipts.csv"),
        "receipts",
      ],
      [
        "bank twice",
        request(world.app)
          .post(uploadPath(16))
          .attach("bank", Buffer.from(BANK), "statement.csv")
          .attach("bank", Buffer.from(BANK), "statement.csv")
          .attach("settlement", Buffer.from(SETTLEMENT), "settlement.csv"),
        "bank",
      ],
      ["text part", request(world.app).post(uploadPath(16)).field("settlement", "id,type\n"), "settlement"],
      [
        "no boundary",
        request(world.app).post(uploadPath(16)).set("Content-Type", "multipart/form-data; x=1").send("--x--"),
        "Content-Type",
      ],
      [
        "cut short",
        request(world.app)
          .post(uploadPath(16))
          .set("Content-Type", "multipart/form-data; boundary=b0undary")
          .send(
            `--b0undary\r\nContent-Disposition: form-data; name="settlement"; filename="s.csv"\r\nContent-Type: text/csv\r\n\r\n${SETTLEMENT}\r\n`,
          ),
        undefined,
      ],
    ];
    for (const [name, call, param] of cases) {
      const res = await call.set(asOperator);
      expect(res.status, `${name}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error, name).toMatchObject({
        type: "invalid_request_error",
        code: "validation_failed",
      });
      if (param) expect(res.body.error.param, name).toBe(param);
    }
    expect((await runs()).length).toBe(before);
    expect(spools()).toEqual([]);
  });

  it("answers another multipart type with 415 and an unknown PSP with 404, and leaves no spooled file", async () => {
    const mixed = await request(world.app)
      .post(uploadPath(16))
      .set(asOperator)
      .set("Content-Type", "multipart/mixed; boundary=b0undary")
      .send("--b0undary--\r\n");
    expect(mixed.status).toBe(415);
    expect(mixed.body.error).toMatchObject({ code: "unsupported_media_type", param: "Content-Type" });
    const unknown = await request(world.app)
      .post(uploadPath(16).replace("provider=sandbox", "provider=nowhere"))
      .set(asOperator)
      .attach("bank", Buffer.from(BANK), "statement.csv")
      .attach("settlement", Buffer.from(SETTLEMENT), "settlement.csv");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: "not_found", param: "psp" });
    expect(spools()).toEqual([]);
  });

  it("streams the settlement part: the reconciliation reads it before the client has sent the rest of the form", async () => {
    const original = world.system.reconcile;
    let firstChunk!: () => void;
    const readFirst = new Promise<void>((resolve) => (firstChunk = resolve));
    const spy = vi.spyOn(world.system, "reconcile").mockImplementation((input: ReconcileInput) => {
      const file = input.source!.file;
      const counted = (async function* () {
        for await (const chunk of file) {
          firstChunk();
          yield chunk;
        }
      })();
      return original({ ...input, source: { ...input.source!, file: counted } as ReconcileInput["source"] });
    });
    try {
      const boundary = "settlekit-test-boundary";
      const part = (name: string) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${name}.csv"\r\nContent-Type: text/csv\r\n\r\n`;
      const rows = Array.from({ length: 2000 }, (_, i) => `y${i},charge,100,0,100,USD,2026-02-18T09:00:00Z,`);
      const { status, body } = await streamedPost(
        world.app,
        {
          path: uploadPath(18),
          headers: { ...asOperator, "Content-Type": `multipart/form-data; boundary=${boundary}` },
        },
        async (req) => {
          req.write(
            `${part("settlement")}id,type,amt,fee,net,cur,when,po\n${rows.slice(0, 1000).join("\n")}\n`,
          );
          // Half the settlement sent: the server must be reading it already (a buffering one waits for the end).
          await readFirst;
          req.write(`${rows.slice(1000).join("\n")}\r\n`);
          req.write(`${part("bank")}${onDay(BANK, 18)}\r\n--${boundary}--\r\n`);
          req.end();
        },
      );
      expect(status, body).toBe(201);
      expect(JSON.parse(body)).toMatchObject({ record_count: 2000, bank_line_count: 2 });
    } finally {
      spy.mockRestore();
    }
  });
});

describe.each(["express", "fetch"] as const)("multipart upload limits over %s", (mode) => {
  const world = suiteWorld("sqlite", { mode, router: { uploadLimit: 4096, uploadSpoolLimit: 256 } });

  it("answers 413 to a form over uploadLimit and to a bank part sent first over uploadSpoolLimit; nothing is reconciled", async () => {
    const big = `${SETTLEMENT}\n${Array.from({ length: 100 }, (_, i) => `z${i},charge,100,0,100,USD,2026-02-20T09:00:00Z,`).join("\n")}`;
    expect(big.length).toBeGreaterThan(4096);
    const over = await request(world.app)
      .post(uploadPath(20))
      .set(asOperator)
      .attach("settlement", Buffer.from(big), "settlement.csv");
    expect(over.status).toBe(413);
    expect(over.body.error.code).toBe("payload_too_large");
    const longBank = `${BANK}\n${Array.from({ length: 20 }, (_, i) => `2026-02-21,1.00,USD,line${i}`).join("\n")}`;
    expect(longBank.length).toBeGreaterThan(256);
    const spooled = await request(world.app)
      .post(uploadPath(20))
      .set(asOperator)
      .attach("bank", Buffer.from(longBank), "statement.csv")
      .attach("settlement", Buffer.from(SETTLEMENT), "settlement.csv");
    expect(spooled.status).toBe(413);
    expect(spooled.body.error).toMatchObject({ code: "payload_too_large", param: "bank" });
    // The same long statement after the settlement is streamed, not spooled: no limit but uploadLimit.
    const streamed = await request(world.app)
      .post(uploadPath(20))
      .set(asOperator)
      .attach("settlement", Buffer.from(SETTLEMENT), "settlement.csv")
      .attach("bank", Buffer.from(longBank), "statement.csv");
    expect(streamed.status, JSON.stringify(streamed.body)).toBe(201);
    expect(streamed.body.bank_line_count).toBe(22);
    const list = await request(world.app).get("/v1/reconciliations").set(asOperator);
    expect(list.body.data).toHaveLength(1);
    expect(spools()).toEqual([]);
  });
});

describe("a multipart upload behind the host's own body parsers (Express)", () => {
  const world = suiteWorld("sqlite", {
    host: (app) => {
      app.use(express.json());
      app.use(express.urlencoded({ extended: false }));
      app.use(express.text({ type: "text/*" }));
    },
  });

  it("is still streamed to the route: the parsers leave multipart alone and the router reads it first", async () => {
    const res = await request(world.app)
      .post(uploadPath(22))
      .set(asOperator)
      .attach("bank", Buffer.from(onDay(BANK, 22).replaceAll("2026-02-21", "2026-02-23")), "statement.csv")
      .attach("settlement", Buffer.from(onDay(SETTLEMENT, 22)), "settlement.csv");
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ record_count: 5, bank_line_count: 2 });
    expect(spools()).toEqual([]);
  });
});
