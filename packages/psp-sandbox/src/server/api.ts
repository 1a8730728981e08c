import type { IncomingMessage, ServerResponse } from "node:http";
import type { SandboxProvider } from "../types.js";
import { decode, encode, errorToWire } from "./wire.js";

/**
 * The calls the sandbox server answers at `POST /api/<call>`, body `{"args":[…]}` in the
 * {@link encode} JSON: the `PaymentProvider` port's methods (what `remoteSandboxProvider` calls)
 * and the controls a test plays the buyer, the bank and the network with. `faults.<name>` calls
 * `sandbox.faults.<name>`.
 */
export const PORT_CALLS = [
  "createHostedPayment",
  "retrievePayment",
  "refund",
  "retrieveRefund",
  "cancelHostedPayment",
  "payout",
  "retrievePayout",
  "reversePayout",
  "retrievePayoutReversal",
  "readSettlement",
] as const;

export const CONTROL_CALLS = [
  "pay",
  "settle",
  "expire",
  "refundFromDashboard",
  "openDispute",
  "submitDisputeEvidence",
  "winDispute",
  "loseDispute",
  "disputes",
  "tick",
  "idle",
  "events",
  "deliveries",
  "payment",
  "payments",
  "refunds",
  "payouts",
  "payoutReversals",
  "settlementCsv",
] as const;

const CALLS: ReadonlySet<string> = new Set<string>([...PORT_CALLS, ...CONTROL_CALLS]);
const MAX_BODY = 1 << 20;

type Callable = (...args: unknown[]) => unknown;

function resolveCall(sandbox: SandboxProvider, name: string): Callable | undefined {
  if (name.startsWith("faults.")) {
    const fault = name.slice("faults.".length);
    const faults = sandbox.faults as unknown as Record<string, unknown>;
    const fn = Object.hasOwn(faults, fault) ? faults[fault] : undefined;
    return typeof fn === "function" ? (fn as Callable).bind(faults) : undefined;
  }
  if (!CALLS.has(name)) return undefined;
  const fn = (sandbox as unknown as Record<string, unknown>)[name];
  return typeof fn === "function" ? (fn as Callable).bind(sandbox) : undefined;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new RangeError("body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function reply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(body)),
    "cache-control": "no-store",
  });
  res.end(body);
}

/**
 * Answers one `/api/<call>` request. A `PspError` the sandbox throws goes back as
 * `{"error":{code,kind,message,pspCode,param}}` (503 when retryable, else 422), so the client
 * throws the same error; an unknown call is 404, a malformed body 400.
 */
export async function handleApiCall(
  sandbox: SandboxProvider,
  name: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== "POST") {
    res.setHeader("allow", "POST");
    return reply(res, 405, encode({ error: { code: "VALIDATION_FAILED", message: "POST only." } }));
  }
  const call = resolveCall(sandbox, name);
  if (!call) return reply(res, 404, encode({ error: { code: "NOT_FOUND", message: `No call ${name}.` } }));
  let args: unknown[];
  try {
    const body = decode(await readBody(req)) as { args?: unknown };
    if (!Array.isArray(body?.args)) throw new TypeError("args must be an array");
    args = body.args;
  } catch (error) {
    return reply(
      res,
      400,
      encode({
        error: { code: "VALIDATION_FAILED", message: `Malformed call: ${(error as Error).message}` },
      }),
    );
  }
  try {
    let result = await call(...args);
    if (name === "readSettlement") {
      const rows: unknown[] = [];
      for await (const row of result as AsyncIterable<unknown>) rows.push(row);
      result = rows;
    }
    reply(res, 200, encode({ result: result ?? null }));
  } catch (error) {
    const wire = errorToWire(error);
    reply(res, wire.kind === "retryable" ? 503 : 422, encode({ error: wire }));
  }
}
