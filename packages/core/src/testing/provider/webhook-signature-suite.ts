import { describe, expect, it } from "vitest";
import { expectPspError, registered } from "./fixtures.js";
import type { CapturedWebhook, ProviderHarness } from "./harness.js";

/** A real webhook for a paid payment, as the PSP sent it. */
async function realWebhook(harness: ProviderHarness): Promise<CapturedWebhook> {
  const { pspReference } = await registered(harness);
  await harness.pay(pspReference, "succeeded");
  const webhooks = await harness.webhooks();
  expect(webhooks.length).toBeGreaterThan(0);
  return webhooks[0]!;
}

/** Every header value replaced: the signature header is present but unreadable. */
const garbled = (headers: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).map(([name]) => [name, "garbage"]));

/** The body with its first digit changed (an amount or a timestamp: either is an attack). */
const tampered = (rawBody: string): string => rawBody.replace(/\d/, (d) => String((Number(d) + 1) % 10));

/**
 * Signature checks: anything but the PSP's signature over these exact bytes, recent enough, is
 * `WEBHOOK_SIGNATURE_INVALID` (fatal: the host answers 400 and never acts on it).
 */
export function webhookSignatureSuite(current: () => ProviderHarness, signedTimestamps: boolean): void {
  describe("webhook signatures", () => {
    const rejects = async (harness: ProviderHarness, rawBody: string, headers: Record<string, string>) =>
      expectPspError(
        harness.provider.parseWebhook({ rawBody, headers, now: harness.now() }),
        "WEBHOOK_SIGNATURE_INVALID",
        "fatal",
        { sent: { rawBody, headers } },
      );

    it("accepts the PSP's own webhook, and a body it re-signs now", async () => {
      const harness = current();
      const webhook = await realWebhook(harness);
      await expect(
        harness.provider.parseWebhook({
          rawBody: webhook.rawBody,
          headers: webhook.headers,
          now: harness.now(),
        }),
      ).resolves.not.toHaveLength(0);
      const headers = harness.sign(webhook.rawBody);
      const events = await harness.provider.parseWebhook({
        rawBody: webhook.rawBody,
        headers,
        now: harness.now(),
      });
      expect(events.length).toBeGreaterThan(0);
    });

    it("accepts a signature a minute old", async () => {
      const harness = current();
      const { rawBody } = await realWebhook(harness);
      const headers = harness.sign(rawBody, { timestamp: new Date(harness.now().getTime() - 60_000) });
      await expect(
        harness.provider.parseWebhook({ rawBody, headers, now: harness.now() }),
      ).resolves.toBeDefined();
    });

    it("rejects a webhook without signature headers", async () => {
      const harness = current();
      const { rawBody } = await realWebhook(harness);
      await rejects(harness, rawBody, {});
    });

    it("rejects a malformed signature header", async () => {
      const harness = current();
      const { rawBody } = await realWebhook(harness);
      await rejects(harness, rawBody, garbled(harness.sign(rawBody)));
    });

    it("rejects a signature made with another secret", async () => {
      const harness = current();
      const { rawBody } = await realWebhook(harness);
      await rejects(harness, rawBody, harness.sign(rawBody, { secret: "whsec_not_the_right_secret" }));
    });

    if (signedTimestamps) {
      it("rejects a signature an hour old (a replay)", async () => {
        const harness = current();
        const { rawBody } = await realWebhook(harness);
        const timestamp = new Date(harness.now().getTime() - 3_600_000);
        await rejects(harness, rawBody, harness.sign(rawBody, { timestamp }));
      });
    } else {
      it("gives a replayed webhook the original's event ids (no signed time: core's dedupe drops it)", async () => {
        const harness = current();
        const webhook = await realWebhook(harness);
        const parse = () =>
          harness.provider.parseWebhook({
            rawBody: webhook.rawBody,
            headers: webhook.headers,
            now: harness.now(),
          });
        const original = (await parse()).map((e) => e.eventId);
        expect(original.length).toBeGreaterThan(0);
        for (const id of original) expect(id).toMatch(/\S/);
        expect((await parse()).map((e) => e.eventId)).toEqual(original);
      });
    }

    it("rejects a tampered body under the original signature", async () => {
      const harness = current();
      const { rawBody, headers } = await realWebhook(harness);
      expect(tampered(rawBody)).not.toBe(rawBody);
      await rejects(harness, tampered(rawBody), { ...headers });
    });

    it("rejects a body changed by a single trailing space", async () => {
      const harness = current();
      const { rawBody, headers } = await realWebhook(harness);
      await rejects(harness, `${rawBody} `, { ...headers });
    });

    it("rejects a forged body signed with another secret even when its JSON is well formed", async () => {
      const harness = current();
      const rawBody = harness.ignoredEventBody();
      await rejects(harness, rawBody, harness.sign(rawBody, { secret: "whsec_attacker" }));
    });
  });
}
