import type { PspDisputeEvent, PspEvent } from "@settlekit/core";
import type Stripe from "stripe";
import { afterEach, describe, expect, it } from "vitest";
import { DISPUTE_FEE } from "../src/testing/index.js";
import type { StripeWorld } from "./support/harness.js";
import { stripeWorld } from "./support/harness.js";
import { registrationInput } from "./support/inputs.js";

describe("parseWebhook: charge.dispute.*", () => {
  let world: StripeWorld;
  afterEach(async () => world?.fake.close());

  async function paidSession(): Promise<string> {
    const { pspReference } = await world.provider.createHostedPayment(registrationInput());
    world.fake.pay(pspReference, "succeeded");
    world.fake.drainWebhooks();
    return pspReference;
  }
  /** Every pending webhook, parsed, with its Stripe type. */
  async function parsed(): Promise<{ type: string; events: PspEvent[] }[]> {
    const out = [];
    for (const webhook of world.fake.drainWebhooks()) {
      const type = (JSON.parse(webhook.rawBody) as Stripe.Event).type;
      out.push({ type, events: await world.provider.parseWebhook({ ...webhook, now: world.clock.now() }) });
    }
    return out;
  }

  it("maps a dispute to the session settlekit knows, with the fee withdrawn and what a win gives back", async () => {
    world = await stripeWorld();
    const session = await paidSession();
    const dispute = world.fake.openDispute(session, { reason: "product_not_received" });
    const opened = await parsed();
    expect(opened.map((o) => o.type)).toEqual(["charge.dispute.created", "charge.dispute.funds_withdrawn"]);
    const snapshot: Partial<PspDisputeEvent> = {
      kind: "dispute",
      pspReference: session,
      disputeReference: dispute.id,
      status: "needs_response",
      amount: 12_345n,
      currency: "USD",
      reason: "product_not_received",
      evidenceDueBy: new Date(dispute.evidence_details.due_by! * 1000),
      fundsWithdrawn: { amount: 12_345n, fee: BigInt(DISPUTE_FEE) },
    };
    for (const { events } of opened) expect(events).toEqual([expect.objectContaining(snapshot)]);

    world.fake.submitDisputeEvidence(dispute.id);
    world.fake.winDispute(dispute.id, { feeReturned: 500 });
    const closed = await parsed();
    expect(closed.map((c) => [c.type, (c.events[0] as PspDisputeEvent).status])).toEqual([
      ["charge.dispute.updated", "under_review"],
      ["charge.dispute.funds_reinstated", "won"],
      ["charge.dispute.closed", "won"],
    ]);
    expect(closed[2]!.events[0]).toMatchObject({
      fundsWithdrawn: { amount: 12_345n, fee: 1_500n },
      fundsReinstated: { amount: 12_345n, feeReturned: 500n },
    });
  });

  it("maps a lost dispute (nothing reinstated) and finds the intent through the charge when the dispute omits it", async () => {
    world = await stripeWorld();
    const session = await paidSession();
    const dispute = world.fake.openDispute(session, { amount: 2_000 });
    world.fake.drainWebhooks();
    world.fake.loseDispute(dispute.id);
    const [closed] = world.fake.drainWebhooks();
    const body = JSON.parse(closed!.rawBody) as Stripe.Event;
    (body.data.object as { payment_intent: unknown }).payment_intent = null;
    const rawBody = JSON.stringify(body);
    const [event] = await world.provider.parseWebhook({
      rawBody,
      headers: { "stripe-signature": world.fake.sign(rawBody) },
      now: world.clock.now(),
    });
    expect(event).toMatchObject({
      kind: "dispute",
      pspReference: session,
      status: "lost",
      amount: 2_000n,
      fundsWithdrawn: { amount: 2_000n, fee: 1_500n },
    });
    expect((event as PspDisputeEvent).fundsReinstated).toBeUndefined();
    expect(world.fake.requests.some((r) => r.method === "GET" && r.path.startsWith("/v1/charges/"))).toBe(
      true,
    );
  });

  it.each([
    ["warning_needs_response", "inquiry"],
    ["warning_under_review", "inquiry"],
    ["warning_closed", "warning_closed"],
    ["prevented", "warning_closed"],
    ["appeal_under_review", "under_review"],
  ])(
    "maps Stripe's %s to %s; an unknown status or a payment of no session is ignored",
    async (stripe, mine) => {
      world = await stripeWorld();
      const session = await paidSession();
      world.fake.openDispute(session);
      const [created] = world.fake.drainWebhooks();
      const resend = async (edit: (dispute: Record<string, unknown>) => void) => {
        const body = JSON.parse(created!.rawBody) as Stripe.Event;
        edit(body.data.object as unknown as Record<string, unknown>);
        const rawBody = JSON.stringify(body);
        return world.provider.parseWebhook({
          rawBody,
          headers: { "stripe-signature": world.fake.sign(rawBody) },
          now: world.clock.now(),
        });
      };
      expect(await resend((d) => (d.status = stripe))).toEqual([expect.objectContaining({ status: mine })]);
      expect(await resend((d) => (d.status = "something_new"))).toEqual([
        expect.objectContaining({ kind: "ignored", type: "charge.dispute.created" }),
      ]);
      expect(await resend((d) => (d.payment_intent = "pi_not_settlekits"))).toEqual([
        expect.objectContaining({ kind: "ignored" }),
      ]);
    },
  );
});
