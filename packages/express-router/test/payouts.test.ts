import request from "supertest";
import { describe, expect, it } from "vitest";
import {
  payoutDetailsSchema,
  payoutListSchema,
  payoutRequestSchema,
  payoutScheduleSchema,
  walletSchema,
  walletTransactionListSchema,
} from "../src/schemas.js";
import type { Dialect, Mode, World } from "./support/world.js";
import {
  asBuyer,
  asOperator,
  asSeller,
  MATRIX,
  paymentBody,
  referenceOf,
  suiteWorld,
  webhookDelivery,
} from "./support/world.js";

let keys = 0;
const key = () => `payout-key-${++keys}`;
let sellers = 0;
/** A seller of its own per test: the world (and its wallets) is shared by a describe's tests. */
const newSeller = (name: string) => `${name}_${++sellers}`;

type Paid = { id: string; orders: { id: string; seller_id: string; amount: string }[] };
type Auth = Record<string, string>;

/** A world, and paid-and-fulfilled orders for any seller, over HTTP where the API has a route. */
function payoutWorld(dialect: Dialect, mode: Mode) {
  const t = {} as {
    world: World;
    /** A paid payment with one order per seller (minor units), each fulfilled unless `fulfil: false`. */
    sold(orders: Record<string, number>, options?: { fulfil?: boolean }): Promise<Paid>;
    get(path: string, auth: Auth): request.Test;
    post(path: string, auth: Auth, body?: object, idempotencyKey?: string | null): request.Test;
    put(path: string, auth: Auth, body: object): request.Test;
  };
  t.world = suiteWorld(dialect, { mode });
  const deliver = webhookDelivery(t.world);
  t.sold = async (orders, { fulfil = true } = {}) => {
    const created = await request(t.world.app)
      .post("/v1/payments")
      .set(asBuyer("B1"))
      .set("Idempotency-Key", key())
      .send(
        paymentBody({
          orders: Object.entries(orders).map(([seller_id, amount]) => ({ seller_id, amount })),
        }),
      );
    expect(created.status).toBe(201);
    await t.world.sandbox.pay(referenceOf(created.body));
    await deliver();
    const paid = created.body as Paid;
    if (fulfil) {
      for (const order of paid.orders) await t.world.system.fulfilOrder({ paymentOrderId: order.id });
    }
    return paid;
  };
  t.get = (path, auth) => request(t.world.app).get(path).set(auth);
  t.post = (path, auth, body, idempotencyKey = key()) => {
    const req = request(t.world.app).post(path).set(auth);
    if (idempotencyKey) req.set("Idempotency-Key", idempotencyKey);
    return body === undefined ? req.send() : req.send(body);
  };
  t.put = (path, auth, body) => request(t.world.app).put(path).set(auth).send(body);
  return t;
}

const sum = (amounts: readonly string[]) => amounts.reduce((a, b) => a + BigInt(b), 0n);

describe.each(MATRIX)("payout routes on %s over %s", (dialect, mode) => {
  const t = payoutWorld(dialect, mode);

  it("a seller sees only their own wallet, history, payouts and schedule (another seller's is 404); operators see all", async () => {
    const mine = newSeller("own");
    const theirs = newSeller("other");
    await t.sold({ [mine]: 5_000, [theirs]: 3_000 });
    const paid = await t.post("/v1/payouts", asOperator, { seller_id: mine });
    expect(paid.status).toBe(201);
    const payoutId = String(paid.body.payouts[0].id);

    const reads = [
      `/v1/sellers/${mine}/wallet`,
      `/v1/sellers/${mine}/transactions`,
      `/v1/sellers/${mine}/payouts`,
      `/v1/sellers/${mine}/payout-schedule`,
      `/v1/payouts/${payoutId}`,
    ];
    for (const path of reads) {
      const own = await t.get(path, asSeller(mine));
      expect(own.status, path).toBe(200);
      const operator = await t.get(path, asOperator);
      expect(operator.status, path).toBe(200);
      expect(operator.body, path).toEqual(own.body);
      // Another seller's: answered like a seller (or payout) that does not exist.
      const other = await t.get(path, asSeller(theirs));
      expect([other.status, other.body.error?.code], path).toEqual([404, "not_found"]);
      const buyer = await t.get(path, asBuyer("B1"));
      expect([buyer.status, buyer.body.error?.code], path).toEqual([401, "unauthenticated"]);
      expect((await request(t.world.app).get(path)).status, path).toBe(401);
    }
    expect(walletSchema.parse((await t.get(reads[0]!, asSeller(mine))).body).seller_id).toBe(mine);
    expect((await t.get(`/v1/payouts/pout_nobody`, asOperator)).status).toBe(404);

    // Writes under another seller's id are 404 too, and change nothing.
    const rows = await t.world.rowCounts();
    const request1 = await t.post(`/v1/sellers/${mine}/payouts`, asSeller(theirs), {});
    expect([request1.status, request1.body.error?.code]).toEqual([404, "not_found"]);
    const schedule = await t.put(`/v1/sellers/${mine}/payout-schedule`, asSeller(theirs), {
      interval: "daily",
    });
    expect([schedule.status, schedule.body.error?.code]).toEqual([404, "not_found"]);
    // Operator-only routes: a seller or a buyer is 403.
    for (const auth of [asSeller(mine), asBuyer("B1")]) {
      const pay = await t.post("/v1/payouts", auth, { seller_id: mine });
      expect([pay.status, pay.body.error?.code]).toEqual([403, "forbidden"]);
      const cycle = await t.post("/v1/operator/payout-cycles", auth);
      expect([cycle.status, cycle.body.error?.code]).toEqual([403, "forbidden"]);
    }
    expect(await t.world.rowCounts()).toEqual(rows);
  });

  it("POST /v1/payouts pays a seller's available money: the payout's lines explain it, the wallet and history show it", async () => {
    const seller = newSeller("flow");
    await t.sold({ [seller]: 10_000 });
    await t.sold({ [seller]: 2_345 });
    await t.sold({ [seller]: 700 }, { fulfil: false }); // pending: not paid out
    const before = walletSchema.parse((await t.get(`/v1/sellers/${seller}/wallet`, asOperator)).body);
    expect(before.balances).toEqual([
      expect.objectContaining({
        currency: "USD",
        pending: "700",
        available: "12345",
        reserved: "0",
        paid_out: "0",
      }),
    ]);

    const res = await t.post("/v1/payouts", asOperator, { seller_id: seller, currency: "USD" });
    expect(res.status).toBe(201);
    const result = payoutRequestSchema.parse(res.body);
    expect(result.skipped).toEqual([]);
    expect(result.payouts).toHaveLength(1);
    const payout = result.payouts[0]!;
    expect(payout).toMatchObject({
      seller_id: seller,
      status: "paid",
      trigger: "manual",
      amount: "12345",
      currency: "USD",
      source_amount: "12345",
      source_currency: "USD",
      failure_message: null,
    });
    expect(payout.psp_payout_reference).toMatch(/^sbx_po_/);
    expect(t.world.sandbox.payouts().filter((p) => p.sellerId === seller)).toHaveLength(1);

    const details = payoutDetailsSchema.parse(
      (await t.get(`/v1/payouts/${payout.id}`, asSeller(seller))).body,
    );
    expect(details.id).toBe(payout.id);
    expect(details.lines.length).toBe(2); // one per fulfilled order
    expect(sum(details.lines.map((l) => l.amount))).toBe(BigInt(details.source_amount));
    expect(details.lines.every((l) => l.currency === "USD")).toBe(true);

    const after = walletSchema.parse((await t.get(`/v1/sellers/${seller}/wallet`, asSeller(seller))).body);
    expect(after.balances).toEqual([
      expect.objectContaining({
        currency: "USD",
        pending: "700",
        available: "0",
        reserved: "0",
        paid_out: "12345",
      }),
    ]);
    const history = walletTransactionListSchema.parse(
      (await t.get(`/v1/sellers/${seller}/transactions`, asSeller(seller))).body,
    );
    expect(new Set(history.data.map((x) => x.type))).toEqual(new Set(["sale", "fee", "payout"]));
    const payoutMoves = history.data.filter((x) => x.payout_id === payout.id);
    expect(sum(payoutMoves.map((x) => x.available))).toBe(-12_345n);
    expect(sum(payoutMoves.map((x) => x.reserved))).toBe(0n); // reserved, then paid
    // The balances are the sums of the history.
    expect(sum(history.data.map((x) => x.available))).toBe(0n);
    expect(sum(history.data.map((x) => x.pending))).toBe(700n);

    const listed = payoutListSchema.parse(
      (await t.get(`/v1/sellers/${seller}/payouts`, asSeller(seller))).body,
    );
    expect(listed.data.map((p) => [p.id, p.status])).toEqual([[payout.id, "paid"]]);
    const paidOnly = await t.get(`/v1/sellers/${seller}/payouts?status=paid`, asSeller(seller));
    expect(paidOnly.body.data).toHaveLength(1);
    const failedOnly = await t.get(`/v1/sellers/${seller}/payouts?status=failed`, asSeller(seller));
    expect(failedOnly.body).toEqual({ object: "list", data: [], has_more: false });

    // Nothing left: a second request pays nothing, and for a currency asked for says why.
    const again = await t.post("/v1/payouts", asOperator, { seller_id: seller });
    expect([again.status, again.body.payouts]).toEqual([201, []]);
    // (Which currencies core reports without one asked for is core's: at most "nothing available".)
    for (const skip of payoutRequestSchema.parse(again.body).skipped)
      expect(skip.reason).toBe("nothing_available");
    const usd = await t.post("/v1/payouts", asOperator, { seller_id: seller, currency: "USD" });
    expect(payoutRequestSchema.parse(usd.body)).toEqual({
      object: "payout_request",
      payouts: [],
      skipped: [{ currency: "USD", reason: "nothing_available", available: "0" }],
    });
  });

  it("POST /v1/payouts is idempotent: a replay answers the stored response and pays nothing again", async () => {
    const seller = newSeller("replay");
    await t.sold({ [seller]: 4_000 });
    const k = key();
    const first = await t.post("/v1/payouts", asOperator, { seller_id: seller }, k);
    expect(first.status).toBe(201);
    expect(first.body.payouts).toHaveLength(1);
    expect(first.headers["idempotent-replayed"]).toBeUndefined();
    await t.sold({ [seller]: 1_000 }); // more money: a new request would pay it
    const rows = await t.world.rowCounts();
    const again = await t.post("/v1/payouts", asOperator, { seller_id: seller }, k);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(await t.world.rowCounts()).toEqual(rows);
    expect(t.world.sandbox.payouts().filter((p) => p.sellerId === seller)).toHaveLength(1);

    const reused = await t.post("/v1/payouts", asOperator, { seller_id: seller, currency: "USD" }, k);
    expect([reused.status, reused.body.error?.code]).toEqual([422, "idempotency_key_reused"]);
    const missing = await t.post("/v1/payouts", asOperator, { seller_id: seller }, null);
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: "idempotency_key_missing", param: "Idempotency-Key" });
    expect(await t.world.rowCounts()).toEqual(rows);
    // A new key pays what came since.
    const next = await t.post("/v1/payouts", asOperator, { seller_id: seller });
    expect(next.body.payouts.map((p: { amount: string }) => p.amount)).toEqual(["1000"]);
  });

  it("a request that fails before paying frees its key: the same request may be sent again", async () => {
    const seller = newSeller("fx");
    await t.sold({ [seller]: 1_200 });
    // Paid in EUR, but the system has no FX rates: nothing can be reserved.
    await t.put(`/v1/sellers/${seller}/payout-schedule`, asOperator, {
      interval: "manual",
      payout_currency: "EUR",
    });
    const k = key();
    const rows = await t.world.rowCounts();
    const failed = await t.post(`/v1/sellers/${seller}/payouts`, asSeller(seller), {}, k);
    expect([failed.status, failed.body.error?.code]).toEqual([503, "fx_rate_unavailable"]);
    expect(failed.headers["retry-after"]).toBe("1");
    const { settlekit_idempotency_keys: _key, ...others } = await t.world.rowCounts();
    const { settlekit_idempotency_keys: _before, ...othersBefore } = rows;
    expect(others).toEqual(othersBefore);
    // Fixed: the same key runs the request (not 409 in use, not the error replayed).
    await t.put(`/v1/sellers/${seller}/payout-schedule`, asOperator, {
      interval: "manual",
      payout_currency: null,
    });
    const paid = await t.post(`/v1/sellers/${seller}/payouts`, asSeller(seller), {}, k);
    expect(paid.status).toBe(201);
    expect(paid.body.payouts.map((p: { amount: string; status: string }) => [p.amount, p.status])).toEqual([
      ["1200", "paid"],
    ]);
  });

  it("a seller requests their own payout; a refused one says why on the payout and in the wallet, and the money is available again", async () => {
    const seller = newSeller("refused");
    await t.sold({ [seller]: 2_500 });
    t.world.sandbox.faults.failNextPayouts(1, "refused", { failureReason: "account_closed" });
    const res = await t.post(`/v1/sellers/${seller}/payouts`, asSeller(seller), {});
    expect(res.status).toBe(201);
    const [payout] = payoutRequestSchema.parse(res.body).payouts;
    expect(payout).toMatchObject({ status: "failed", failure_code: "account_closed", amount: "2500" });
    expect(payout!.failure_message).toMatch(/bank account is closed/);

    const wallet = walletSchema.parse((await t.get(`/v1/sellers/${seller}/wallet`, asSeller(seller))).body);
    expect(wallet.balances[0]).toMatchObject({
      available: "2500",
      reserved: "0",
      paid_out: "0",
      payout_notice: { payout_id: payout!.id, code: "account_closed", message: payout!.failure_message },
    });
    const listed = await t.get(`/v1/sellers/${seller}/payouts?status=failed`, asSeller(seller));
    expect(listed.body.data.map((p: { failure_message: string }) => p.failure_message)).toEqual([
      payout!.failure_message,
    ]);
    const history = walletTransactionListSchema.parse(
      (await t.get(`/v1/sellers/${seller}/transactions`, asSeller(seller))).body,
    );
    expect(history.data.map((x) => x.type)).toContain("payout_released");

    // The next request pays it (the seller's own key scope: the same key as the operator's is another key).
    const paid = await t.post(`/v1/sellers/${seller}/payouts`, asSeller(seller), { currency: "USD" });
    expect(paid.body.payouts.map((p: { status: string; amount: string }) => [p.status, p.amount])).toEqual([
      ["paid", "2500"],
    ]);
  });

  it("payout schedules: GET shows manual by default, PUT sets daily, a payout cycle pays what is due", async () => {
    const seller = newSeller("scheduled");
    const path = `/v1/sellers/${seller}/payout-schedule`;
    expect(payoutScheduleSchema.parse((await t.get(path, asSeller(seller))).body)).toEqual({
      object: "payout_schedule",
      seller_id: seller,
      interval: "manual",
      payout_currency: null,
      next_payout_at: null,
      last_skip_reason: null,
    });
    const set = await t.put(path, asSeller(seller), { interval: "daily", payout_currency: "EUR" });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ interval: "daily", payout_currency: "EUR" });
    expect(Date.parse(set.body.next_payout_at)).toBe(Date.parse("2026-03-02T00:00:00.000Z"));
    // null clears the payout currency; leaving it out keeps it.
    expect((await t.put(path, asOperator, { interval: "weekly" })).body.payout_currency).toBe("EUR");
    const cleared = await t.put(path, asOperator, { interval: "daily", payout_currency: null });
    expect(cleared.body).toMatchObject({ interval: "daily", payout_currency: null });
    expect((await t.get(path, asOperator)).body).toEqual(cleared.body);

    await t.sold({ [seller]: 3_300 });
    t.world.clock.advance(86_400_000); // past the next 00:00 UTC
    const cycle = await t.post("/v1/operator/payout-cycles", asOperator, undefined, null);
    expect(cycle.status).toBe(200);
    expect(cycle.body).toMatchObject({ object: "payout_cycle" });
    expect(cycle.body.scheduled).toBeGreaterThanOrEqual(1);
    expect(cycle.body.jobs).toBeGreaterThanOrEqual(1);
    const listed = payoutListSchema.parse((await t.get(`/v1/sellers/${seller}/payouts`, asOperator)).body);
    expect(listed.data.map((p) => [p.trigger, p.status, p.amount])).toEqual([["scheduled", "paid", "3300"]]);
  });

  it("pages: transactions with starting_after and currency, payouts with starting_after", async () => {
    const seller = newSeller("pages");
    await t.sold({ [seller]: 1_000 });
    expect((await t.post("/v1/payouts", asOperator, { seller_id: seller })).status).toBe(201);
    await t.sold({ [seller]: 2_000 });
    expect((await t.post("/v1/payouts", asOperator, { seller_id: seller })).status).toBe(201);

    const all = (await t.get(`/v1/sellers/${seller}/transactions?limit=100`, asSeller(seller))).body;
    expect(all.has_more).toBe(false);
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await t.get(
        `/v1/sellers/${seller}/transactions?limit=2${after ? `&starting_after=${after}` : ""}`,
        asSeller(seller),
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((x: { id: string }) => x.id));
      if (!page.body.has_more) break;
      after = page.body.data.at(-1).id;
    }
    expect(seen).toEqual(all.data.map((x: { id: string }) => x.id));
    expect(seen.length).toBeGreaterThan(2);
    const jpy = await t.get(`/v1/sellers/${seller}/transactions?currency=JPY`, asSeller(seller));
    expect(jpy.body).toEqual({ object: "list", data: [], has_more: false });

    const first = (await t.get(`/v1/sellers/${seller}/payouts?limit=1`, asSeller(seller))).body;
    expect([first.data.map((p: { amount: string }) => p.amount), first.has_more]).toEqual([["2000"], true]);
    const second = (
      await t.get(
        `/v1/sellers/${seller}/payouts?limit=1&starting_after=${first.data[0].id}`,
        asSeller(seller),
      )
    ).body;
    expect([second.data.map((p: { amount: string }) => p.amount), second.has_more]).toEqual([
      ["1000"],
      false,
    ]);
  });

  it("refuses bad input with a 400 naming the field, and changes nothing", async () => {
    const seller = newSeller("bad");
    await t.sold({ [seller]: 1_500 });
    const rows = await t.world.rowCounts();
    const refusals: [request.Test, number, string, string][] = [
      [
        t.post("/v1/payouts", asOperator, { seller_id: seller, sellerId: seller }),
        400,
        "validation_failed",
        "sellerId",
      ],
      [t.post("/v1/payouts", asOperator, {}), 400, "validation_failed", "seller_id"],
      [t.post("/v1/payouts", asOperator, { seller_id: "no/slashes" }), 400, "validation_failed", "seller_id"],
      [
        t.post("/v1/payouts", asOperator, { seller_id: seller, currency: "usd" }),
        400,
        "unknown_currency",
        "currency",
      ],
      [
        t.post(`/v1/sellers/${seller}/payouts`, asSeller(seller), { currency: "XYZ" }),
        400,
        "unknown_currency",
        "currency",
      ],
      [
        t.post(`/v1/sellers/${seller}/payouts`, asSeller(seller), { seller_id: "someone" }),
        400,
        "validation_failed",
        "seller_id",
      ],
      [
        t.put(`/v1/sellers/${seller}/payout-schedule`, asSeller(seller), { interval: "hourly" }),
        400,
        "validation_failed",
        "interval",
      ],
      [
        t.put(`/v1/sellers/${seller}/payout-schedule`, asSeller(seller), {}),
        400,
        "validation_failed",
        "interval",
      ],
      [
        t.put(`/v1/sellers/${seller}/payout-schedule`, asSeller(seller), {
          interval: "daily",
          payout_currency: "EURO",
        }),
        400,
        "unknown_currency",
        "payout_currency",
      ],
      [
        t.get(`/v1/sellers/${seller}/transactions?limit=0`, asSeller(seller)),
        400,
        "validation_failed",
        "limit",
      ],
      [
        t.get(`/v1/sellers/${seller}/transactions?limit=101`, asSeller(seller)),
        400,
        "validation_failed",
        "limit",
      ],
      [
        t.get(`/v1/sellers/${seller}/payouts?limit=many`, asSeller(seller)),
        400,
        "validation_failed",
        "limit",
      ],
      [
        t.get(`/v1/sellers/${seller}/payouts?status=lost`, asSeller(seller)),
        400,
        "validation_failed",
        "status",
      ],
      [
        t.get(`/v1/sellers/${seller}/transactions?currency=usd`, asSeller(seller)),
        400,
        "unknown_currency",
        "currency",
      ],
      [
        t.get(`/v1/sellers/${seller}/transactions?starting_after=a.b`, asSeller(seller)),
        400,
        "validation_failed",
        "starting_after",
      ],
      [t.get(`/v1/sellers/${seller}/payouts?sort=asc`, asSeller(seller)), 400, "validation_failed", "sort"],
    ];
    for (const [i, [pending, status, code, param]] of refusals.entries()) {
      const res = await pending;
      expect([res.status, res.body.error?.code, res.body.error?.param], `refusal ${i}`).toEqual([
        status,
        code,
        param,
      ]);
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
    }
    expect(await t.world.rowCounts()).toEqual(rows);
    const schedule = await t.get(`/v1/sellers/${seller}/payout-schedule`, asSeller(seller));
    expect(schedule.body.interval).toBe("manual");
    const wallet = await t.get(`/v1/sellers/${seller}/wallet`, asSeller(seller));
    expect(wallet.body.balances[0]).toMatchObject({ available: "1500", paid_out: "0" });
  });
});

describe("payout routes without authenticateSeller", () => {
  const world = suiteWorld("sqlite", { router: { authenticateSeller: undefined } });

  it("answer 403 to anyone but an operator, who is still served", async () => {
    const res = await request(world.app).get("/v1/sellers/S1/wallet").set(asSeller("S1"));
    expect([res.status, res.body.error?.code]).toEqual([403, "forbidden"]);
    const operator = await request(world.app).get("/v1/sellers/S1/wallet").set(asOperator);
    expect(operator.body).toEqual({ object: "wallet", seller_id: "S1", balances: [] });
  });
});
