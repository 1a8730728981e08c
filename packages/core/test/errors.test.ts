import { describe, expect, it } from "vitest";
import { ErrorCodes, isSettlekitError, SettlekitError } from "../src/errors.js";

describe("SettlekitError", () => {
  it("carries code, message, param and cause", () => {
    const cause = new Error("boom");
    const error = new SettlekitError(ErrorCodes.INVALID_AMOUNT, "bad amount", { param: "amount", cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe("INVALID_AMOUNT");
    expect(error.param).toBe("amount");
    expect(error.cause).toBe(cause);
    expect(error.toJSON()).toEqual({ code: "INVALID_AMOUNT", message: "bad amount", param: "amount" });
    expect(isSettlekitError(error, "INVALID_AMOUNT")).toBe(true);
    expect(isSettlekitError(error, "NOT_FOUND")).toBe(false);
    expect(isSettlekitError(new Error("x"))).toBe(false);
  });

  it("omits param from JSON when there is none", () => {
    expect(new SettlekitError("NOT_FOUND", "missing").toJSON()).toEqual({
      code: "NOT_FOUND",
      message: "missing",
    });
  });
});
