import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { EU_BANK_TRANSFER_COUNTRIES, stripeProvider } from "../src/index.js";

const client = new Stripe("sk_test_fake", { telemetry: false });
const make = (euBankTransferCountry: string) =>
  stripeProvider({ client, webhookSecret: "whsec_x", euBankTransferCountry });

describe("euBankTransferCountry, checked against the pinned SDK's documented values", () => {
  it.each(EU_BANK_TRANSFER_COUNTRIES.map((country) => [country]))("takes %s", (country) => {
    expect(() => make(country)).not.toThrow();
  });

  it.each([["BE"], ["ES"], ["de"], ["AT"], [""]])("refuses %j when the provider is created", (country) => {
    expect(() => make(country)).toThrow(
      expect.objectContaining({ code: "VALIDATION_FAILED", param: "euBankTransferCountry" }),
    );
  });
});
