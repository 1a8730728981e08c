import type { IncomingMessage, ServerResponse } from "node:http";
import { isPspError, withPaymentId } from "@settlekit/core";
import type { SandboxContext } from "../context.js";
import { submitPaymentForm } from "../payment-attempt.js";
import { settlementCsv } from "../settlement-csv.js";
import { expireIfDue } from "../transitions.js";
import { HttpError, readForm } from "./form.js";
import { hostedPage } from "./hosted-page.js";
import { html, layout, PAGE_HEADERS } from "./html.js";

/**
 * A node:http request handler; the optional `next` makes it Express middleware too, so unknown
 * paths fall through to the host's routes instead of a 404.
 */
export type SandboxRequestHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => void;

const CSV_HEADERS = { "content-type": "text/csv; charset=utf-8", "cache-control": "no-store" };
const TEXT_HEADERS = { "content-type": "text/plain; charset=utf-8" };

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body = "",
): void {
  res.writeHead(status, { ...headers, "content-length": String(Buffer.byteLength(body)) });
  res.end(req.method === "HEAD" ? undefined : body);
}

function redirect(req: IncomingMessage, res: ServerResponse, location: string): void {
  // 303: the browser follows with a GET, so reloading the next page never re-submits the payment.
  send(
    req,
    res,
    303,
    { location, "cache-control": "no-store", "content-type": "text/plain; charset=utf-8" },
    `See ${location}`,
  );
}

function notFound(req: IncomingMessage, res: ServerResponse): void {
  send(
    req,
    res,
    404,
    PAGE_HEADERS,
    layout("Not found | Settlekit sandbox", html`<h1>Payment not found</h1>`),
  );
}

async function payRoute(
  ctx: SandboxContext,
  req: IncomingMessage,
  res: ServerResponse,
  ref: string,
  url: URL,
) {
  const pageUrl = `${ctx.options.baseUrl}/pay/${encodeURIComponent(ref)}`;
  if (req.method === "GET" || req.method === "HEAD") {
    const payment = ctx.state.payments.get(ref);
    if (!payment) return notFound(req, res);
    expireIfDue(ctx, payment);
    const page = hostedPage(
      payment,
      pageUrl,
      url.searchParams.get("error") ?? undefined,
      ctx.options.bankTransferSettleMs,
    );
    return send(req, res, 200, PAGE_HEADERS, page);
  }
  if (req.method !== "POST") return send(req, res, 405, { allow: "GET, HEAD, POST" });
  const form = await readForm(req);
  try {
    const { outcome, payment } = submitPaymentForm(ctx, ref, form);
    if (outcome === "canceled") return redirect(req, res, payment.cancelUrl);
    if (outcome === "failed")
      return redirect(req, res, `${pageUrl}?error=${encodeURIComponent(payment.failureCode ?? "")}`);
    return redirect(req, res, withPaymentId(payment.successUrl, payment.paymentId));
  } catch (error) {
    if (isPspError(error) && error.code === "NOT_FOUND") return notFound(req, res);
    if (isPspError(error) && error.pspCode) {
      return redirect(req, res, `${pageUrl}?error=${encodeURIComponent(error.pspCode)}`);
    }
    throw error;
  }
}

function settlementRoute(ctx: SandboxContext, req: IncomingMessage, res: ServerResponse, date: string): void {
  if (req.method !== "GET" && req.method !== "HEAD") {
    send(req, res, 405, { allow: "GET, HEAD" });
    return;
  }
  let csv: string;
  try {
    csv = settlementCsv(ctx.state, date);
  } catch {
    send(req, res, 400, TEXT_HEADERS, "Invalid date.");
    return;
  }
  send(
    req,
    res,
    200,
    { ...CSV_HEADERS, "content-disposition": `inline; filename="settlement-${date}.csv"` },
    csv,
  );
}

async function route(ctx: SandboxContext, req: IncomingMessage, res: ServerResponse, next?: () => void) {
  const url = new URL(req.url ?? "/", "http://sandbox.invalid");
  let path = url.pathname;
  // Express strips its mount path; plain node:http does not, so strip the baseUrl's path here.
  const base = ctx.options.basePath;
  if (base && path.startsWith(`${base}/`)) path = path.slice(base.length);
  const pay = /^\/pay\/([^/]+)$/.exec(path);
  if (pay) {
    let ref: string;
    try {
      ref = decodeURIComponent(pay[1]!);
    } catch {
      return notFound(req, res);
    }
    return payRoute(ctx, req, res, ref, url);
  }
  const settlement = /^\/settlement\/([^/]+)\.csv$/.exec(path);
  if (settlement) return settlementRoute(ctx, req, res, settlement[1]!);
  if (next) return next();
  send(req, res, 404, TEXT_HEADERS, "Not found.");
}

/** The sandbox's HTTP surface: `GET|POST /pay/:ref` (hosted page) and `GET /settlement/:date.csv`. */
export function createHandler(ctx: SandboxContext): SandboxRequestHandler {
  return (req, res, next) => {
    route(ctx, req, res, next && (() => next())).catch((error: unknown) => {
      if (error instanceof HttpError) return send(req, res, error.status, TEXT_HEADERS, error.message);
      ctx.options.onError(error);
      if (res.headersSent) res.destroy();
      else send(req, res, 500, TEXT_HEADERS, "Sandbox error.");
    });
  };
}
