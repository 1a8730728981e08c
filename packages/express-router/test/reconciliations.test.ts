import type { ReconcileInput } from "@settlekit/core";
import { SETTLEMENT_CSV_HEADER } from "@settlekit/psp-sandbox";
import request from "supertest";
import { describe, expect, it, vi } from "vitest";
import {
  reconciliationDetailsSchema,
  reconciliationItemSchema,
  reconciliationListSchema,
  reconciliationSchema,
} from "../src/schemas.js";
import { streamedPost } from "./support/streamed-post.js";
import { asBuyer, asOperator, asSeller, authorizeOperator, MATRIX, suiteWorld } from "./support/world.js";

/** The period of the files below: a day well past the settlement lag of the world's clock. */
const FROM = "2026-02-20";
const TO = "2026-02-21";
const UPLOAD = `/v1/reconciliations?provider=sandbox&format=sandbox_csv&period_from=${FROM}&period_to=${TO}`;

/** A sandbox settlement line the ledger has never heard of (`missing_in_ledger`). */
const line = (n: number, amount = 1000) =>
  `sbx_pay_unknown${String(n).padStart(7, "0")},charge,${amount},30,${amount - 30},USD,2026-02-20T10:00:00.000Z,`;

/** Columns of the `mapped_csv` file below. */
const MAPPING = JSON.stringify({ record_id: "id", amount: "amt", currency: "cur", created_at: "when" });

/** Two unknown charges and a line with a bad amount (line 3 of the file). */
const FILE = `${SETTLEMENT_CSV_HEADER}\n${line(1)}\nsbx_pay_bad,charge,12.5x,0,0,USD,2026-02-20T11:00:00.000Z,\n${line(2)}\n`;

describe.each(MATRIX)("reconciliation routes on %s over %s", (dialect, mode) => {
  const world = suiteWorld(dialect, {
    mode,
    router: {
      // The operator says who they are: what a resolution records.
      authorizeOperator: (req: Parameters<typeof authorizeOperator>[0]) =>
        authorizeOperator(req) ? { operatorId: "ops@shop.test" } : false,
      // Uploads are not held to the JSON body limit.
      bodyLimit: 16 * 1024,
    },
  });

  const upload = (path: string, body: string) =>
    request(world.app).post(path).set(asOperator).set("Content-Type", "text/csv").send(body);

  it("refuses buyers, sellers and anonymous callers with 403 on every reconciliation route", async () => {
    const calls = [
      () => request(world.app).get("/v1/reconciliations"),
      () => request(world.app).get("/v1/reconciliations/rcn_1"),
      () => request(world.app).post(UPLOAD).set("Content-Type", "text/csv").send(FILE),
      () => request(world.app).post("/v1/reconciliations/rcn_1/items/1/resolve").send({ note: "x" }),
    ];
    for (const call of calls) {
      for (const who of [{}, asBuyer(), asSeller("S1")]) {
        const res = await call().set(who);
        expect(res.status).toBe(403);
        expect(res.body.error).toMatchObject({ type: "permission_error", code: "forbidden" });
      }
    }
    expect((await request(world.app).get("/v1/reconciliations").set(asOperator)).body.data).toEqual([]);
  });

  it("answers bad upload parameters with 400 and the param, an unknown PSP with 404, a non-CSV body with 415", async () => {
    const base = { provider: "sandbox", format: "sandbox_csv", period_from: FROM, period_to: TO };
    for (const [change, param] of [
      [{ provider: undefined }, "provider"],
      [{ format: "xlsx" }, "format"],
      [{ period_from: "yesterday" }, "period_from"],
      [{ period_to: "2026-02-30T00:00:00Z" }, "period_to"],
      [{ period_to: FROM }, "period_to"],
      [{ format: "mapped_csv" }, "mapping"],
      [{ mapping: MAPPING }, "mapping"],
      [{ format: "mapped_csv", mapping: "{}" }, "mapping.record_id"],
      [{ format: "mapped_csv", mapping: "{not json" }, "mapping"],
      [{ surprise: "1" }, undefined],
    ] as const) {
      const query = new URLSearchParams(
        Object.entries({ ...base, ...change }).filter((e): e is [string, string] => e[1] !== undefined),
      );
      const res = await upload(`/v1/reconciliations?${query}`, FILE);
      expect(res.status, query.toString()).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
      if (param) expect(res.body.error.param, query.toString()).toBe(param);
    }
    const unknown = await upload(UPLOAD.replace("provider=sandbox", "provider=nowhere"), FILE);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: "not_found", param: "psp" });
    const json = await request(world.app).post(UPLOAD).set(asOperator).send({ file: FILE });
    expect(json.status).toBe(415);
    expect(json.body.error).toMatchObject({ code: "unsupported_media_type", param: "Content-Type" });
    // Nothing was reconciled by any of them.
    expect((await request(world.app).get("/v1/reconciliations").set(asOperator)).body.data).toEqual([]);
  });

  let runId = "";

  it("reconciles an uploaded file (201), and the same file again is the same run (200)", async () => {
    const first = await upload(UPLOAD, FILE);
    expect(first.status).toBe(201);
    const run = reconciliationSchema.parse(first.body);
    expect(run).toMatchObject({
      psp: "sandbox",
      source: "sandbox_csv",
      status: "completed",
      record_count: 3,
    });
    expect(run.discrepancy_count).toBeGreaterThanOrEqual(3);
    expect(run.period_from).toBe(`${FROM}T00:00:00.000Z`);
    runId = run.id;
    const again = await upload(UPLOAD, FILE);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const list = await request(world.app).get("/v1/reconciliations").set(asOperator);
    expect(reconciliationListSchema.parse(list.body).data.map((r) => r.id)).toEqual([runId]);
  });

  it("shows a run with its items, filtered by class and paged", async () => {
    const res = await request(world.app).get(`/v1/reconciliations/${runId}`).set(asOperator);
    expect(res.status).toBe(200);
    const details = reconciliationDetailsSchema.parse(res.body);
    expect(details.id).toBe(runId);
    expect(details.items.data.map((i) => i.class)).toEqual(
      expect.arrayContaining(["missing_in_ledger", "missing_in_ledger", "invalid_row"]),
    );
    const invalid = await request(world.app)
      .get(`/v1/reconciliations/${runId}?class=invalid_row`)
      .set(asOperator);
    expect(invalid.body.items.data).toEqual([
      expect.objectContaining({ class: "invalid_row", line: 3, reconciliation_id: runId }),
    ]);
    const page = await request(world.app)
      .get(`/v1/reconciliations/${runId}?class=missing_in_ledger&limit=1`)
      .set(asOperator);
    expect(page.body.items).toMatchObject({ has_more: true, data: [{ reference: expect.any(String) }] });
    const next = await request(world.app)
      .get(
        `/v1/reconciliations/${runId}?class=missing_in_ledger&limit=1&starting_after=${page.body.items.next_cursor}`,
      )
      .set(asOperator);
    expect(next.body.items).toMatchObject({ has_more: false, next_cursor: null });
    expect(next.body.items.data[0].id).toBeGreaterThan(page.body.items.data[0].id);
    expect(next.body.items.data[0].reference).not.toBe(page.body.items.data[0].reference);
    for (const query of ["class=nope", "limit=0", "starting_after=x", "surprise=1"]) {
      const bad = await request(world.app).get(`/v1/reconciliations/${runId}?${query}`).set(asOperator);
      expect(bad.status, query).toBe(400);
    }
    const missing = await request(world.app).get("/v1/reconciliations/rcn_nope").set(asOperator);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
  });

  it("resolves a discrepancy once with the operator's note; the second time is 409", async () => {
    const invalid = await request(world.app)
      .get(`/v1/reconciliations/${runId}?class=invalid_row`)
      .set(asOperator);
    const seq = invalid.body.items.data[0].id as number;
    const path = `/v1/reconciliations/${runId}/items/${seq}/resolve`;
    const empty = await request(world.app).post(path).set(asOperator).send({ note: "  " });
    expect(empty.status).toBe(400);
    expect(empty.body.error.param).toBe("note");
    const res = await request(world.app).post(path).set(asOperator).send({ note: "PSP re-sent the row" });
    expect(res.status).toBe(200);
    expect(reconciliationItemSchema.parse(res.body).resolution).toMatchObject({
      resolved_by: "ops@shop.test",
      note: "PSP re-sent the row",
      journal_reference: null,
    });
    const twice = await request(world.app).post(path).set(asOperator).send({ note: "again" });
    expect(twice.status).toBe(409);
    expect(twice.body.error).toMatchObject({
      type: "invalid_request_error",
      code: "invalid_state_transition",
      param: "seq",
    });
    const shown = await request(world.app)
      .get(`/v1/reconciliations/${runId}?class=invalid_row`)
      .set(asOperator);
    expect(shown.body.items.data[0].resolution.note).toBe("PSP re-sent the row");
    const unknown = await request(world.app)
      .post(`/v1/reconciliations/${runId}/items/9999/resolve`)
      .set(asOperator)
      .send({ note: "x" });
    expect(unknown.status).toBe(404);
  });

  it("resolves a discrepancy with a correcting journal (exact minor units), refuses an invalid one with nothing written, and 409 the second time", async () => {
    const missing = await request(world.app)
      .get(`/v1/reconciliations/${runId}?class=missing_in_ledger&limit=1`)
      .set(asOperator);
    const seq = missing.body.items.data[0].id as number;
    const path = `/v1/reconciliations/${runId}/items/${seq}/resolve`;
    const posting = (account: string, direction: string, amount: unknown, currency = "USD") => ({
      account,
      currency,
      direction,
      amount,
    });
    const before = await world.rowCounts();
    for (const [name, journal, code, param] of [
      [
        "unbalanced",
        {
          postings: [
            posting("bank:settlement", "debit", 970),
            posting("platform:adjustments", "credit", 969),
          ],
        },
        "unbalanced_journal",
        "journal.postings",
      ],
      [
        "balanced in sum, not per currency",
        {
          postings: [
            posting("bank:settlement", "debit", 970),
            posting("platform:adjustments", "credit", 970, "EUR"),
          ],
        },
        "unbalanced_journal",
        "journal.postings",
      ],
      [
        "bad account",
        {
          postings: [
            posting("Bank settlement", "debit", 970),
            posting("platform:adjustments", "credit", 970),
          ],
        },
        "invalid_account",
        "journal.postings.0.account",
      ],
      [
        "decimal amount",
        {
          postings: [
            posting("bank:settlement", "debit", "9.70"),
            posting("platform:adjustments", "credit", 970),
          ],
        },
        "too_many_decimals",
        "journal.postings.0.amount",
      ],
      [
        "over the largest amount",
        {
          postings: [
            posting("bank:settlement", "debit", "9007199254740992"),
            posting("platform:adjustments", "credit", "9007199254740992"),
          ],
        },
        "invalid_amount",
        "journal.postings.0.amount",
      ],
      [
        "unknown currency",
        {
          postings: [
            posting("bank:settlement", "debit", 970, "usd"),
            posting("platform:adjustments", "credit", 970, "usd"),
          ],
        },
        "unknown_currency",
        "journal.postings.0.currency",
      ],
      [
        "one posting",
        { postings: [posting("bank:settlement", "debit", 970)] },
        "validation_failed",
        "journal.postings",
      ],
      [
        "unknown field",
        {
          postings: [
            posting("bank:settlement", "debit", 970),
            posting("platform:adjustments", "credit", 970),
          ],
          at: 1,
        },
        "validation_failed",
        "journal.at",
      ],
    ] as const) {
      const res = await request(world.app).post(path).set(asOperator).send({ note: "fix", journal });
      expect(res.status, name).toBe(400);
      expect(res.body.error, name).toMatchObject({ type: "invalid_request_error", code, param });
    }
    expect(await world.rowCounts()).toEqual(before);
    // Beyond 2^53 in total, exact: amounts as strings of digits arrive as bigints.
    const big = "9007199254740991";
    const res = await request(world.app)
      .post(path)
      .set(asOperator)
      .send({
        note: "a test charge made in the PSP's dashboard; booked to adjustments",
        journal: {
          postings: [
            posting("bank:settlement", "debit", "970"),
            posting("platform:adjustments", "credit", 970),
            posting("platform:adjustments", "debit", big, "KWD"),
            posting("platform:adjustments", "debit", big, "KWD"),
            posting("platform:fx", "credit", big, "KWD"),
            posting("platform:fx", "credit", big, "KWD"),
          ],
          metadata: { ticket: "OPS-17" },
        },
      });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const reference = `reconciliation:${runId}:${seq}:correction`;
    expect(reconciliationItemSchema.parse(res.body).resolution).toMatchObject({
      resolved_by: "ops@shop.test",
      journal_reference: reference,
    });
    const journal = await world.store.ledger.getJournal(reference);
    expect(journal).toMatchObject({
      kind: "reconciliation_correction",
      metadata: { ticket: "OPS-17", reconciliationId: runId, item: String(seq) },
    });
    expect(journal!.postings.filter((p) => p.currency === "KWD").map((p) => p.amount)).toEqual([
      BigInt(big),
      BigInt(big),
      BigInt(big),
      BigInt(big),
    ]);
    expect(await world.store.ledger.getBalance("bank:settlement", "USD")).toMatchObject({ balance: 970n });
    const counts = await world.rowCounts();
    const twice = await request(world.app)
      .post(path)
      .set(asOperator)
      .send({
        note: "again",
        journal: {
          reference: "another",
          postings: [posting("bank:settlement", "debit", 1), posting("platform:adjustments", "credit", 1)],
        },
      });
    expect(twice.status).toBe(409);
    expect(twice.body.error).toMatchObject({ code: "invalid_state_transition", param: "seq" });
    expect(await world.rowCounts()).toEqual(counts);
    expect(await world.store.ledger.getJournal("another")).toBeNull();
  });

  it("a corrected file is a new run (201) superseding the last; the list filters by PSP", async () => {
    const corrected = `${SETTLEMENT_CSV_HEADER}\n${line(1)}\n${line(2)}\n`;
    const res = await upload(UPLOAD, corrected);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ supersedes: runId, record_count: 2 });
    const list = await request(world.app).get("/v1/reconciliations?provider=sandbox&limit=1").set(asOperator);
    expect(list.body).toMatchObject({ has_more: true, data: [{ id: res.body.id }] });
    const older = await request(world.app)
      .get(`/v1/reconciliations?provider=sandbox&starting_after=${res.body.id}`)
      .set(asOperator);
    expect(older.body.data).toEqual([expect.objectContaining({ id: runId, superseded_by: res.body.id })]);
    const other = await request(world.app).get("/v1/reconciliations?provider=stripe").set(asOperator);
    expect(other.body).toEqual({ object: "list", data: [], has_more: false });
  });

  it("streams a large upload in chunks: the reconciliation reads the first chunk before the last is sent", async () => {
    const original = world.system.reconcile;
    let firstChunk!: () => void;
    const readFirst = new Promise<void>((resolve) => (firstChunk = resolve));
    let chunksRead = 0;
    const spy = vi.spyOn(world.system, "reconcile").mockImplementation((input: ReconcileInput) => {
      const file = input.source!.file;
      const counted = (async function* () {
        for await (const chunk of file) {
          chunksRead++;
          firstChunk();
          yield chunk;
        }
      })();
      return original({ ...input, source: { ...input.source!, file: counted } as ReconcileInput["source"] });
    });
    try {
      const rows = 2000;
      let sent = 0;
      const { status, body } = await streamedPost(
        world.app,
        {
          path: UPLOAD.replace(FROM, "2026-02-10").replace(TO, "2026-02-11"),
          headers: { ...asOperator, "Content-Type": "text/csv; charset=utf-8" },
        },
        async (req) => {
          req.write(`${SETTLEMENT_CSV_HEADER}\n`);
          for (let i = 0; i < rows; i += 100) {
            const chunk = Array.from({ length: 100 }, (_, j) =>
              line(10_000 + i + j).replace("2026-02-20", "2026-02-10"),
            ).join("\n");
            req.write(`${chunk}\n`);
            sent += chunk.length;
            // Half the file sent: the server must already be reading it (a buffering server waits for the end).
            if (i === rows / 2) await readFirst;
          }
          expect(sent).toBeGreaterThan(16 * 1024 * 4);
          req.end();
        },
      );
      expect(status, body).toBe(201);
      expect(JSON.parse(body)).toMatchObject({ record_count: rows });
      expect(chunksRead).toBeGreaterThan(1);
    } finally {
      spy.mockRestore();
    }
  });
});

describe.each(MATRIX)("reconciliation of a mapped CSV on %s over %s", (dialect, mode) => {
  const world = suiteWorld(dialect, { mode });

  it("reads any CSV through the column mapping given as JSON in ?mapping=", async () => {
    const query = new URLSearchParams({
      provider: "sandbox",
      format: "mapped_csv",
      period_from: FROM,
      period_to: TO,
      mapping: MAPPING,
    });
    const file = "id,amt,cur,when\nx1,500,USD,2026-02-20T09:00:00Z\nx2,abc,USD,2026-02-20T09:00:00Z\n";
    const res = await request(world.app)
      .post(`/v1/reconciliations?${query}`)
      .set(asOperator)
      .set("Content-Type", "application/octet-stream")
      .send(Buffer.from(file));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ source: "mapped_csv", record_count: 2 });
    const items = await request(world.app).get(`/v1/reconciliations/${res.body.id}`).set(asOperator);
    expect(items.body.items.data.map((i: { class: string }) => i.class).sort()).toEqual([
      "invalid_row",
      "missing_in_ledger",
    ]);
  });
});

describe.each(["express", "fetch"] as const)("reconciliation upload limit over %s", (mode) => {
  const world = suiteWorld("sqlite", { mode, router: { uploadLimit: 1024 } });

  it("answers a file over uploadLimit with 413 and reconciles nothing", async () => {
    const big = `${SETTLEMENT_CSV_HEADER}\n${Array.from({ length: 40 }, (_, i) => line(i)).join("\n")}\n`;
    const res = await request(world.app)
      .post(UPLOAD)
      .set(asOperator)
      .set("Content-Type", "text/csv")
      .send(big);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("payload_too_large");
    const list = await request(world.app).get("/v1/reconciliations").set(asOperator);
    expect(list.body.data).toEqual([]);
  });

  it("answers 413 to a long upload sent in chunks, while the client is still sending", async () => {
    const answer = await streamedPost(
      world.app,
      { path: UPLOAD, headers: { ...asOperator, "Content-Type": "text/csv" } },
      (req) => {
        req.write(`${SETTLEMENT_CSV_HEADER}\n`);
        let i = 0;
        const more = () => {
          // Up to 256 KiB, a chunk at a time, unless the answer came first.
          if (i++ >= 64 || req.destroyed) return req.end();
          req.write(`${Array.from({ length: 50 }, (_, j) => line(i * 50 + j)).join("\n")}\n`, () =>
            setImmediate(more),
          );
        };
        more();
      },
    );
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).error.code).toBe("payload_too_large");
  });
});
