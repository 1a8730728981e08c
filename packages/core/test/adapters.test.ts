import { describe, expect, it } from "vitest";
import { passesLuhn, withCheckoutId } from "../src/index.js";

describe("passesLuhn (card numbers; the router and the sandbox share it)", () => {
  it.each([
    ["4242424242424242", true],
    ["4242424242424241", false],
    ["79927398713", true],
    ["79927398710", false],
    ["0", true],
    ["18", true],
    ["19", false],
  ])("Luhn(%s) is %s", (digits, expected) => {
    expect(passesLuhn(digits)).toBe(expected);
  });
});

describe("withCheckoutId (the buyer comes back with settlekit's checkout id, from every provider)", () => {
  it("appends checkout_id, keeping the host's query, fragment and a PSP placeholder as they are", () => {
    expect(withCheckoutId("https://shop.example/done", "chk_1")).toBe(
      "https://shop.example/done?checkout_id=chk_1",
    );
    expect(withCheckoutId("https://shop.example/done?s={CHECKOUT_SESSION_ID}#top", "chk_1")).toBe(
      "https://shop.example/done?s={CHECKOUT_SESSION_ID}&checkout_id=chk_1#top",
    );
    expect(withCheckoutId("https://shop.example/done?a=1&b=x%20y", "chk 2")).toBe(
      "https://shop.example/done?a=1&b=x%20y&checkout_id=chk%202",
    );
  });
});
