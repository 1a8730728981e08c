import { describe, expect, it, vi } from "vitest";
import {
  convertMinor,
  ErrorCodes,
  type FxRates,
  jsonFxFeed,
  type Logger,
  manualClock,
  SettlekitError,
  staticFxRates,
} from "../src/index.js";
import { expectRejection } from "../src/testing/expect-rejection.js";
import { runFxRatesConformance } from "../src/testing/index.js";

const HOUR = 3_600_000;

const ecb = (date: string, rates: Record<string, unknown>, base = "EUR") => ({ base, date, rates });

/** A feed whose document the test replaces, counting the loads. */
function feedSource(document: unknown) {
  const source = {
    document,
    loads: 0,
    load: async () => {
      source.loads += 1;
      if (source.document instanceof Error) throw source.document;
      return source.document;
    },
  };
  return source;
}

const quietLogger = (): Logger & { warnings: string[] } => {
  const warnings: string[] = [];
  return { warnings, warn: (message) => warnings.push(message), error: (message) => warnings.push(message) };
};

const unavailable = async (
  rates: FxRates,
  query: { from: string; to: string; at: Date },
  message?: RegExp,
) => {
  const error = await rates.getRate(query).then(
    (answer) => expect.fail(`expected FX_RATE_UNAVAILABLE, got ${JSON.stringify(answer)}`),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SettlekitError);
  expect((error as SettlekitError).code).toBe(ErrorCodes.FX_RATE_UNAVAILABLE);
  if (message) expect((error as SettlekitError).message).toMatch(message);
  return error as SettlekitError;
};

runFxRatesConformance("staticFxRates", () => {
  const clock = manualClock(new Date("2026-12-01T10:00:00.000Z"));
  const ttlMs = 24 * HOUR;
  const table = { "USD/JPY": "157.23", "EUR/KWD": "0.32517", "JPY/USD": "0.0063601" };
  const rates = staticFxRates({ rates: table, ttlMs }, { clock });
  const start = clock.now();
  return {
    rates,
    at: start,
    pairs: [
      { from: "USD", to: "JPY" },
      { from: "EUR", to: "KWD" },
      { from: "JPY", to: "USD" },
    ],
    unknownPair: { from: "GBP", to: "CHF" },
    expire: async () => {
      clock.advance(ttlMs);
      return clock.now();
    },
    requote: async () => ({
      // A fixed table changes only by being replaced.
      rates: staticFxRates(
        { rates: { "USD/JPY": "158.01", "EUR/KWD": "0.3249", "JPY/USD": "0.0063290" }, ttlMs },
        { clock },
      ),
      at: clock.now(),
    }),
  };
});

runFxRatesConformance("jsonFxFeed (ECB reference rates)", () => {
  const clock = manualClock(new Date("2026-12-01T17:00:00.000Z"));
  const source = feedSource(ecb("2026-12-01", { USD: "1.0512", JPY: "163.91", KWD: "0.32517" }));
  const rates = jsonFxFeed({ load: source.load, clock, source: "ecb", logger: quietLogger() });
  return {
    rates,
    at: clock.now(),
    pairs: [
      { from: "USD", to: "JPY" },
      { from: "EUR", to: "KWD" },
      { from: "JPY", to: "USD" },
      { from: "EUR", to: "USD" },
    ],
    unknownPair: { from: "GBP", to: "CHF" },
    expire: async () => {
      // No new publication: the 2026-12-01 document stays, and its 36 hours run out.
      clock.set(new Date("2026-12-02T12:00:00.000Z"));
      return clock.now();
    },
    requote: async () => {
      source.document = ecb("2026-12-02", { USD: "1.0498", JPY: "164.2", KWD: "0.3249" });
      clock.set(new Date("2026-12-02T17:00:00.000Z"));
      return { rates, at: clock.now() };
    },
  };
});

describe("staticFxRates", () => {
  const at = new Date("2026-12-01T10:00:00.000Z");

  it("answers a listed pair as listed, with a stable id and no expiry without ttlMs", async () => {
    const rates = staticFxRates({ "USD/JPY": "157.23" }, { clock: manualClock(at) });
    expect(await rates.getRate({ from: "USD", to: "JPY", at })).toEqual({
      id: "static:USD:JPY:157.23",
      source: "static",
      from: "USD",
      to: "JPY",
      rate: "157.23",
      asOf: at,
      expiresAt: new Date(8_640_000_000_000_000),
    });
    const later = new Date("2100-01-01T00:00:00.000Z");
    expect((await rates.getRate({ from: "USD", to: "JPY", at: later })).id).toBe("static:USD:JPY:157.23");
  });

  it("does not derive the inverse pair, and says so", async () => {
    const rates = staticFxRates({ "USD/JPY": "157.23" });
    const error = await unavailable(rates, { from: "JPY", to: "USD", at }, /JPY\/USD.*lists USD\/JPY/);
    expect(error.details).toMatchObject({ from: "JPY", to: "USD", source: "static" });
  });

  it("expires asOf + ttlMs, and takes its source and asOf from the config", async () => {
    const rates = staticFxRates({
      rates: { "EUR/KWD": "0.32517" },
      ttlMs: HOUR,
      source: "treasury",
      asOf: at,
    });
    const quote = await rates.getRate({ from: "EUR", to: "KWD", at: new Date(at.getTime() + HOUR - 1) });
    expect(quote).toMatchObject({
      id: "treasury:EUR:KWD:0.32517",
      source: "treasury",
      asOf: at,
      expiresAt: new Date(at.getTime() + HOUR),
    });
    await unavailable(
      rates,
      { from: "EUR", to: "KWD", at: new Date(at.getTime() + HOUR) },
      /EUR\/KWD.*expired at 2026-12-01T11:00:00.000Z/,
    );
  });

  it.each([
    [{ USDJPY: "157.23" }, 'rates["USDJPY"]'],
    [{ "USD/USD": "1" }, 'rates["USD/USD"]'],
    [{ "usd/JPY": "157.23" }, 'rates["usd/JPY"]'],
    [{ "USD/XAU": "0.0004" }, 'rates["USD/XAU"]'],
    [{ "USD/JPY/EUR": "1" }, 'rates["USD/JPY/EUR"]'],
    [{ "USD/JPY": "1e3" }, 'rates["USD/JPY"]'],
    [{ "USD/JPY": "0" }, 'rates["USD/JPY"]'],
    [{ "USD/JPY": 157.23 }, 'rates["USD/JPY"]'],
  ])("refuses the table %o (param %s)", (table, param) => {
    expect(() => staticFxRates(table as never)).toThrow(
      expect.objectContaining({ code: ErrorCodes.VALIDATION_FAILED, param }),
    );
  });

  it("refuses a bad ttlMs, source or asOf", () => {
    const rates = { "USD/JPY": "157.23" };
    for (const [config, param] of [
      [{ rates, ttlMs: 0 }, "ttlMs"],
      [{ rates, ttlMs: 1.5 }, "ttlMs"],
      [{ rates, source: "Static" }, "source"],
      [{ rates, source: "" }, "source"],
      [{ rates, asOf: new Date(Number.NaN) }, "asOf"],
    ] as const) {
      expect(() => staticFxRates(config as never), param).toThrow(
        expect.objectContaining({ code: ErrorCodes.VALIDATION_FAILED, param }),
      );
    }
  });
});

describe("jsonFxFeed", () => {
  const document = ecb("2026-12-01", { USD: "1.0512", JPY: "163.91", KWD: "0.32517" });
  const at = new Date("2026-12-01T17:00:00.000Z");
  const feed = (load: () => unknown, logger = quietLogger(), clock = manualClock(at)) =>
    jsonFxFeed({ load, clock, source: "ecb", logger });

  it.each([
    ["EUR", "USD", "1.0512"],
    ["EUR", "JPY", "163.91"],
    ["USD", "EUR", "0.951293759512"], // 1 / 1.0512, 12 significant digits, rounded down
    ["USD", "JPY", "155.926560121"], // 163.91 / 1.0512 = 155.9265601217656…
    ["JPY", "USD", "0.00641327557806"], // 1.0512 / 163.91 = 0.006413275578061…
    ["USD", "KWD", "0.30933219178"], // 0.32517 / 1.0512 = 0.3093321917808…
    ["KWD", "JPY", "504.074791647"], // 163.91 / 0.32517 = 504.07479164744…
  ])("derives %s/%s through the base exactly: %s", async (from, to, rate) => {
    const rates = feed(() => document);
    expect(await rates.getRate({ from, to, at })).toEqual({
      id: `ecb:2026-12-01:${from}:${to}:${rate}`,
      source: "ecb",
      from,
      to,
      rate,
      asOf: new Date("2026-12-01T00:00:00.000Z"),
      expiresAt: new Date("2026-12-02T12:00:00.000Z"),
    });
  });

  it("a cross rate never converts to more than the exact cross rate", async () => {
    const rates = feed(() => document);
    const { rate } = await rates.getRate({ from: "USD", to: "JPY", at });
    const amount = BigInt(Number.MAX_SAFE_INTEGER);
    const converted = convertMinor({ amount, from: "USD", to: "JPY", rate, spreadBps: 0 }).convertedAmount;
    // exact: amount cents × (163.91 / 1.0512) / 100 yen
    const exact = { top: amount * 16_391n * 10_000n, bottom: 100n * 10_512n * 100n };
    expect(converted * exact.bottom <= exact.top).toBe(true);
    // 12 significant digits lose at most 1e-11 of the value
    expect(exact.top / exact.bottom - converted).toBeLessThanOrEqual(exact.top / exact.bottom / 10n ** 11n);
  });

  it("a pair with a currency the document does not list is FX_RATE_UNAVAILABLE naming it", async () => {
    const rates = feed(() => document);
    const error = await unavailable(
      rates,
      { from: "GBP", to: "JPY", at },
      /GBP\/JPY.*of 2026-12-01 \(base EUR\) do not list GBP/,
    );
    expect(error.details).toMatchObject({ from: "GBP", to: "JPY", source: "ecb", date: "2026-12-01" });
  });

  it("caches the document: one load for many queries, concurrent ones included", async () => {
    const source = feedSource(document);
    const rates = feed(source.load);
    await Promise.all([
      rates.getRate({ from: "USD", to: "JPY", at }),
      rates.getRate({ from: "EUR", to: "KWD", at }),
      rates.getRate({ from: "JPY", to: "USD", at }),
    ]);
    await rates.getRate({ from: "USD", to: "EUR", at });
    expect(source.loads).toBe(1);
  });

  it("reloads every refreshMs and picks up the next day's document", async () => {
    const clock = manualClock(at);
    const source = feedSource(document);
    const rates = jsonFxFeed({
      load: source.load,
      clock,
      source: "ecb",
      refreshMs: HOUR,
      logger: quietLogger(),
    });
    expect((await rates.getRate({ from: "EUR", to: "USD", at })).rate).toBe("1.0512");
    source.document = ecb("2026-12-02", { USD: "1.0498", JPY: "164.2" });
    clock.advance(HOUR - 1);
    expect((await rates.getRate({ from: "EUR", to: "USD", at: clock.now() })).rate).toBe("1.0512");
    expect(source.loads).toBe(1);
    clock.advance(1);
    const quote = await rates.getRate({ from: "EUR", to: "USD", at: clock.now() });
    expect(quote).toMatchObject({
      id: "ecb:2026-12-02:EUR:USD:1.0498",
      expiresAt: new Date("2026-12-03T12:00:00.000Z"),
    });
    expect(source.loads).toBe(2);
  });

  it("reloads at once when the cached document has expired, and answers only from a valid one", async () => {
    const clock = manualClock(at);
    const source = feedSource(document);
    const rates = jsonFxFeed({
      load: source.load,
      clock,
      source: "ecb",
      refreshMs: 100 * HOUR,
      logger: quietLogger(),
    });
    await rates.getRate({ from: "USD", to: "JPY", at });
    clock.set(new Date("2026-12-02T12:00:00.000Z"));
    await unavailable(
      rates,
      { from: "USD", to: "JPY", at: clock.now() },
      /USD\/JPY: the ecb rates of 2026-12-01 expired at 2026-12-02T12:00:00.000Z/,
    );
    expect(source.loads).toBe(2);
    source.document = ecb("2026-12-02", { USD: "1.0498", JPY: "164.2" });
    expect((await rates.getRate({ from: "USD", to: "JPY", at: clock.now() })).id).toMatch(
      /^ecb:2026-12-02:USD:JPY:/,
    );
    expect(source.loads).toBe(3);
  });

  it("asking for an instant past the cached document's expiry reloads too", async () => {
    const source = feedSource(document);
    const rates = feed(source.load);
    await rates.getRate({ from: "USD", to: "JPY", at });
    source.document = ecb("2026-12-02", { USD: "1.0498", JPY: "164.2" });
    const later = new Date("2026-12-02T18:00:00.000Z");
    expect((await rates.getRate({ from: "EUR", to: "JPY", at: later })).id).toBe(
      "ecb:2026-12-02:EUR:JPY:164.2",
    );
  });

  it("a failed refresh keeps the valid cached document and warns; an expired one is not saved by it", async () => {
    const clock = manualClock(at);
    const logger = quietLogger();
    const source = feedSource(document);
    const rates = jsonFxFeed({ load: source.load, clock, source: "ecb", logger });
    await rates.getRate({ from: "USD", to: "JPY", at });
    source.document = new Error("connect ECONNREFUSED");
    clock.advance(2 * HOUR);
    const during = await Promise.all([
      rates.getRate({ from: "USD", to: "JPY", at: clock.now() }),
      rates.getRate({ from: "EUR", to: "USD", at: clock.now() }),
    ]);
    expect(during.map((quote) => quote.id)).toEqual([
      expect.stringMatching(/^ecb:2026-12-01:USD:JPY:/),
      expect.stringMatching(/^ecb:2026-12-01:EUR:USD:/),
    ]);
    expect(logger.warnings).toEqual([
      expect.stringMatching(/could not be refreshed.*2026-12-01 stay in use/),
    ]);
    // not retried on every query: the next try is refreshMs later
    await rates.getRate({ from: "USD", to: "JPY", at: clock.now() });
    expect(source.loads).toBe(2);
    clock.set(new Date("2026-12-02T12:00:00.000Z"));
    const error = await unavailable(
      rates,
      { from: "USD", to: "JPY", at: clock.now() },
      /USD\/JPY: .*could not be loaded: connect ECONNREFUSED/,
    );
    expect(error.cause).toBeInstanceOf(SettlekitError);
  });

  it("a feed that keeps failing with nothing valid cached is asked at most once a minute", async () => {
    const clock = manualClock(at);
    const source = feedSource(new Error("503 Service Unavailable"));
    const rates = jsonFxFeed({ load: source.load, clock, source: "ecb", logger: quietLogger() });
    for (let i = 0; i < 5; i += 1) {
      await unavailable(
        rates,
        { from: "EUR", to: "USD", at: clock.now() },
        /EUR\/USD: .*could not be loaded: 503/,
      );
    }
    expect(source.loads).toBe(1);
    source.document = document;
    clock.advance(59_999);
    await unavailable(rates, { from: "EUR", to: "USD", at: clock.now() }, /could not be loaded: 503/);
    clock.advance(1);
    expect((await rates.getRate({ from: "EUR", to: "USD", at: clock.now() })).rate).toBe("1.0512");
    expect(source.loads).toBe(2);
  });

  it("a cross rate beyond the length a rate may have is FX_RATE_UNAVAILABLE", async () => {
    const tiny = `0.${"0".repeat(37)}1`; // 1e-38, 40 characters: a valid rate
    const rates = feed(() => ecb("2026-12-01", { XTS: tiny, JPY: "163.91" }));
    expect((await rates.getRate({ from: "EUR", to: "JPY", at })).rate).toBe("163.91");
    await unavailable(
      rates,
      { from: "XTS", to: "JPY", at },
      /XTS\/JPY: the cross rate through EUR is out of range/,
    );
  });

  it("keeps the newer document when the feed goes back a day", async () => {
    const clock = manualClock(new Date("2026-12-02T17:00:00.000Z"));
    const logger = quietLogger();
    const source = feedSource(ecb("2026-12-02", { USD: "1.0498" }));
    const rates = jsonFxFeed({ load: source.load, clock, source: "ecb", logger });
    await rates.getRate({ from: "EUR", to: "USD", at: clock.now() });
    source.document = document;
    clock.advance(HOUR);
    expect((await rates.getRate({ from: "EUR", to: "USD", at: clock.now() })).id).toBe(
      "ecb:2026-12-02:EUR:USD:1.0498",
    );
    expect(logger.warnings).toEqual([expect.stringMatching(/went back from 2026-12-02 to 2026-12-01/)]);
  });

  it("loads a document given as JSON text", async () => {
    const rates = feed(() => JSON.stringify(document));
    expect((await rates.getRate({ from: "EUR", to: "JPY", at })).rate).toBe("163.91");
  });

  it("accepts the base listed as 1, and ignores fields it does not read", async () => {
    const rates = feed(() => ({ ...ecb("2026-12-01", { EUR: "1.000", USD: "1.0512" }), success: true }));
    expect((await rates.getRate({ from: "USD", to: "EUR", at })).rate).toBe("0.951293759512");
  });

  it.each([
    ["null", null, /expected an object/],
    ["an array", [document], /expected an object .* got an array/],
    ["text that is not JSON", "{ base: EUR", /not valid JSON/],
    ["a lowercase base", { ...document, base: "eur" }, /base must be a three-letter uppercase currency code/],
    ["no date", { base: "EUR", rates: document.rates }, /date must be a day "YYYY-MM-DD", got undefined/],
    ["a date with a time", { ...document, date: "2026-12-01T16:00:00Z" }, /date must be a day/],
    ["a day that does not exist", { ...document, date: "2026-02-30" }, /"2026-02-30" is not a calendar day/],
    ["no rates", { base: "EUR", date: "2026-12-01" }, /rates must be an object/],
    ["empty rates", ecb("2026-12-01", {}), /no currency besides the base/],
    [
      "a JSON number",
      ecb("2026-12-01", { USD: 1.0512, JPY: "163.91" }),
      /rates.USD is the JSON number 1.0512/,
    ],
    [
      "a negative rate",
      ecb("2026-12-01", { USD: "-1.0512" }),
      /rates.USD: rate "-1.0512" is not a decimal string/,
    ],
    ["a zero rate", ecb("2026-12-01", { USD: "0.0000" }), /rates.USD: rate "0.0000" is zero/],
    ["an exponent", ecb("2026-12-01", { USD: "1.0512e0" }), /rates.USD: rate "1.0512e0"/],
    ["a lowercase code", ecb("2026-12-01", { usd: "1.0512" }), /rates key "usd"/],
    [
      "the base at another rate",
      ecb("2026-12-01", { EUR: "2", USD: "1.0512" }),
      /rates.EUR is the base itself/,
    ],
  ])("refuses a document with %s as a whole", async (_, bad, problem) => {
    const rates = feed(() => bad);
    const error = await unavailable(
      rates,
      { from: "EUR", to: "JPY", at },
      /EUR\/JPY: The ecb FX feed document is malformed/,
    );
    expect(error.message).toMatch(problem);
    expect(error.message).toMatch(/None of its rates is used/);
  });

  it("never uses part of a malformed document", async () => {
    // USD is fine, JPY is not: USD is not answered either.
    const rates = feed(() => ecb("2026-12-01", { USD: "1.0512", JPY: 163.91 }));
    await unavailable(rates, { from: "EUR", to: "USD", at }, /malformed: rates.JPY/);
  });

  it("a loader that throws is FX_RATE_UNAVAILABLE with the cause", async () => {
    const failure = new Error("ENOENT: no such file");
    const rates = feed(() => {
      throw failure;
    });
    const error = await unavailable(rates, { from: "EUR", to: "JPY", at }, /could not be loaded: ENOENT/);
    expect((error.cause as SettlekitError).cause).toBe(failure);
  });

  it("refuses bad options and queries", async () => {
    for (const [options, param] of [
      [{}, "load"],
      [{ load: () => document, maxAgeMs: -1 }, "maxAgeMs"],
      [{ load: () => document, refreshMs: 0 }, "refreshMs"],
      [{ load: () => document, source: "ECB" }, "source"],
    ] as const) {
      expect(() => jsonFxFeed(options as never), param).toThrow(
        expect.objectContaining({ code: ErrorCodes.VALIDATION_FAILED, param }),
      );
    }
    const rates = feed(() => document);
    await expectRejection(rates.getRate({ from: "EUR", to: "EUR", at }), {
      code: "VALIDATION_FAILED",
      param: "to",
    });
    await expectRejection(rates.getRate({ from: "EUR", to: "USD", at: new Date(Number.NaN) }), {
      code: "VALIDATION_FAILED",
      param: "at",
    });
  });

  it("maxAgeMs sets the expiry from 00:00 UTC of the document's date", async () => {
    const rates = jsonFxFeed({
      load: () => document,
      clock: manualClock(at),
      maxAgeMs: 90 * HOUR,
      logger: quietLogger(),
    });
    expect(await rates.getRate({ from: "EUR", to: "USD", at })).toMatchObject({
      id: "feed:2026-12-01:EUR:USD:1.0512",
      source: "feed",
      expiresAt: new Date("2026-12-04T18:00:00.000Z"),
    });
  });

  it("the default logger is console", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const clock = manualClock(at);
      const source = feedSource(document);
      const rates = jsonFxFeed({ load: source.load, clock });
      await rates.getRate({ from: "EUR", to: "USD", at });
      source.document = "{";
      clock.advance(HOUR);
      await rates.getRate({ from: "EUR", to: "USD", at: clock.now() });
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/could not be refreshed/), expect.anything());
    } finally {
      warn.mockRestore();
    }
  });
});
