import type { FakeOutcome } from "./checkout.js";
import { createSession, expireSession, paySession, settleIntent } from "./checkout.js";
import { loseDispute, openDispute, winDispute } from "./disputes.js";
import { FakeStripeError } from "./errors.js";
import type { Form } from "./form.js";
import { balanceTransactions, createAutomaticPayout, createRefund } from "./money.js";
import { checkParams, SESSION_EXPIRE } from "./params.js";
import type { FakeStripeState } from "./state.js";
import { createdFilter, createTransfer, createTransferReversal } from "./transfers.js";

type Route = (state: FakeStripeState, match: RegExpExecArray, form: Form, query: URLSearchParams) => unknown;

/** Lists newest first, `limit` (default 10) after `starting_after`, as Stripe pages. */
function page(items: { id: string }[], query: URLSearchParams, url: string) {
  const after = query.get("starting_after");
  const start = after === null ? 0 : items.findIndex((i) => i.id === after) + 1;
  const limit = Number(query.get("limit") ?? 10);
  return {
    object: "list",
    data: items.slice(start, start + limit),
    has_more: start + limit < items.length,
    url,
  };
}

const expandPaths = (query: URLSearchParams, form: Form): string[] => [
  ...[...query.entries()].filter(([k]) => k.startsWith("expand[")).map(([, v]) => v),
  ...Object.values((form.expand as Record<string, string> | undefined) ?? {}),
];

const ROUTES: [string, RegExp, Route][] = [
  ["POST", /^\/v1\/checkout\/sessions$/, (state, _m, form) => createSession(state, form)],
  [
    "GET",
    /^\/v1\/checkout\/sessions$/,
    (state, _m, _f, q) => {
      const intent = q.get("payment_intent");
      return page(
        state.all(
          "checkout.session",
          (s: { id: string; payment_intent: unknown }) => intent === null || s.payment_intent === intent,
        ),
        q,
        "/v1/checkout/sessions",
      );
    },
  ],
  ["GET", /^\/v1\/checkout\/sessions\/([^/]+)$/, (state, m) => state.get("checkout.session", m[1]!)],
  [
    "POST",
    /^\/v1\/checkout\/sessions\/([^/]+)\/expire$/,
    (state, m, form) => {
      checkParams(SESSION_EXPIRE, form);
      return expireSession(state, m[1]!);
    },
  ],
  ["GET", /^\/v1\/payment_intents\/([^/]+)$/, (state, m) => state.get("payment_intent", m[1]!)],
  ["GET", /^\/v1\/charges\/([^/]+)$/, (state, m) => state.get("charge", m[1]!)],
  ["POST", /^\/v1\/refunds$/, (state, _m, form) => createRefund(state, form)],
  [
    "GET",
    /^\/v1\/refunds$/,
    (state, _m, _f, q) => {
      const intent = q.get("payment_intent");
      return page(
        state.all(
          "refund",
          (r: { id: string; payment_intent: unknown }) => intent === null || r.payment_intent === intent,
        ),
        q,
        "/v1/refunds",
      );
    },
  ],
  ["GET", /^\/v1\/refunds\/([^/]+)$/, (state, m) => state.get("refund", m[1]!)],
  ["POST", /^\/v1\/transfers$/, (state, _m, form) => createTransfer(state, form)],
  [
    "GET",
    /^\/v1\/transfers$/,
    (state, _m, _f, q) => {
      const created = createdFilter(q);
      const keep = (t: { id: string; destination: unknown; transfer_group: unknown; created: number }) =>
        (q.get("destination") === null || t.destination === q.get("destination")) &&
        (q.get("transfer_group") === null || t.transfer_group === q.get("transfer_group")) &&
        created(t.created);
      return page(state.all("transfer", keep), q, "/v1/transfers");
    },
  ],
  ["GET", /^\/v1\/transfers\/([^/]+)$/, (state, m) => state.get("transfer", m[1]!)],
  [
    "POST",
    /^\/v1\/transfers\/([^/]+)\/reversals$/,
    (state, m, form) => createTransferReversal(state, m[1]!, form),
  ],
  [
    "GET",
    /^\/v1\/transfers\/([^/]+)\/reversals$/,
    (state, m, _f, q) => {
      state.get("transfer", m[1]!);
      const keep = (r: { id: string; transfer: unknown }) => r.transfer === m[1];
      return page(state.all("transfer_reversal", keep), q, `/v1/transfers/${m[1]}/reversals`);
    },
  ],
  ["GET", /^\/v1\/balance_transactions\/([^/]+)$/, (state, m) => state.get("balance_transaction", m[1]!)],
  [
    "GET",
    /^\/v1\/balance_transactions$/,
    (state, _m, _f, q) => page(balanceTransactions(state, q), q, "/v1/balance_transactions"),
  ],
  // Test control over HTTP, for tools outside this process.
  [
    "POST",
    /^\/_test\/checkout\/sessions\/([^/]+)\/pay$/,
    (state, m, form) => paySession(state, m[1]!, form.outcome as FakeOutcome),
  ],
  ["POST", /^\/_test\/checkout\/sessions\/([^/]+)\/settle$/, (state, m) => settleIntent(state, m[1]!)],
  ["POST", /^\/_test\/payouts$/, (state, _m, form) => createAutomaticPayout(state, String(form.currency))],
  [
    "POST",
    /^\/_test\/checkout\/sessions\/([^/]+)\/dispute$/,
    (state, m, form) =>
      openDispute(state, m[1]!, {
        ...(form.amount !== undefined ? { amount: Number(form.amount) } : {}),
        ...(form.reason !== undefined ? { reason: String(form.reason) } : {}),
      }),
  ],
  [
    "POST",
    /^\/_test\/disputes\/([^/]+)\/win$/,
    (state, m, form) => winDispute(state, m[1]!, Number(form.fee_returned ?? 0)),
  ],
  ["POST", /^\/_test\/disputes\/([^/]+)\/lose$/, (state, m) => loseDispute(state, m[1]!)],
];

/** A JSON copy without the fake's private `_` fields. */
const json = (value: unknown) =>
  JSON.parse(JSON.stringify(value, (k, v) => (k.startsWith("_") ? undefined : v)));

/** A JSON copy of `value` with `expand` paths (`payment_intent.latest_charge`, `data.source`) filled in. */
function expand(state: FakeStripeState, value: unknown, paths: string[]): unknown {
  const copy = json(value);
  const walk = (node: Record<string, unknown>, path: string[]): void => {
    const [head, ...rest] = path;
    if (!head || !node) return;
    if (head === "data" && Array.isArray(node.data)) {
      for (const item of node.data) walk(item, rest);
      return;
    }
    const field = node[head];
    if (typeof field === "string" && state.objects.has(field)) node[head] = json(state.objects.get(field));
    if (typeof node[head] === "object") walk(node[head] as Record<string, unknown>, rest);
  };
  for (const path of paths) walk(copy, path.split("."));
  return copy;
}

/**
 * Runs one API request against the fake's state and returns its JSON answer (expanded as asked).
 * @throws {FakeStripeError} Stripe's error for the request, or 404 for an unknown URL.
 */
export function routeRequest(
  state: FakeStripeState,
  method: string,
  path: string,
  form: Form,
  query: URLSearchParams,
): unknown {
  for (const [verb, pattern, run] of ROUTES) {
    const match = pattern.exec(path);
    if (match && verb === method)
      return expand(state, run(state, match, form, query), expandPaths(query, form));
  }
  throw new FakeStripeError(404, {
    type: "invalid_request_error",
    message: `Unrecognized request URL (${method}: ${path}).`,
  });
}
