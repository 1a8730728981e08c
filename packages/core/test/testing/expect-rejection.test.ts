import { describe, expect, it } from "vitest";
import { expectRejection } from "../../src/testing/expect-rejection.js";

const sent = { amount: 0n, currency: "usd" };

describe("the conformance suites' expectRejection", () => {
  it("passes for a matching rejection", async () => {
    await expectRejection(Promise.reject(Object.assign(new Error("no"), { code: "X" })), { code: "X" }, sent);
  });

  it("names what was sent, what was expected and what came back when the call resolved", async () => {
    const failure = await expectRejection(
      Promise.resolve({ id: "p_1" }),
      { code: "PSP_REQUEST_REJECTED" },
      sent,
    )
      .then(() => undefined)
      .catch((error: Error) => error);
    expect(failure?.message).toContain("PSP_REQUEST_REJECTED");
    expect(failure?.message).toContain("resolved with { id: 'p_1' }");
    expect(failure?.message).toContain("sent: { amount: 0n, currency: 'usd' }");
  });

  it("names what was sent and what was expected when the rejection differs", async () => {
    const other = Object.assign(new Error("boom"), { code: "PSP_UNAVAILABLE" });
    const failure = await expectRejection(Promise.reject(other), { code: "PSP_REQUEST_REJECTED" }, sent)
      .then(() => undefined)
      .catch((error: Error) => error);
    expect(failure?.message).toContain("expected a rejection matching { code: 'PSP_REQUEST_REJECTED' }");
    expect(failure?.message).toContain("sent: { amount: 0n, currency: 'usd' }");
  });
});
