import type {
  CanceledHostedPayment,
  CancelHostedPaymentInput,
  CreateHostedPaymentInput,
  HostedPayment,
  PaymentProvider,
  PayoutInput,
  PayoutResult,
  PayoutReversal,
  PspEvent,
  RefundInput,
  RefundResult,
  RetrievedPayment,
  RetrievedRefund,
  RetrievePayoutInput,
  RetrievePayoutReversalInput,
  RetrieveRefundInput,
  ReversePayoutInput,
  SettlementQuery,
  SettlementRecord,
  WebhookInput,
} from "@settlekit/core";
import { PspError } from "@settlekit/core";
import type { SandboxDelivery } from "../events.js";
import { parseSandboxWebhook } from "../parse-webhook.js";
import type { SandboxPayOptions } from "../payment-attempt.js";
import type { SandboxPayment, SandboxPayout, SandboxRefund } from "../records.js";
import { SANDBOX_CAPABILITIES } from "../sandbox-provider.js";
import type { WireError } from "./wire.js";
import { decode, encode, errorFromWire } from "./wire.js";

export interface RemoteSandboxOptions {
  /** Where `settlekit-sandbox` (or `startSandboxServer`) listens: `http://127.0.0.1:4010`. */
  readonly url: string;
  /** The secret the server signs its webhooks with (its `--webhook-secret`). */
  readonly webhookSecret: string;
  /** Age (either way) beyond which a webhook's signature is refused, in seconds (default 300). */
  readonly webhookToleranceSeconds?: number;
  /** Per-call timeout (default 10 000 ms); a call cut by it is `indeterminate` (`PSP_TIMEOUT`). */
  readonly timeoutMs?: number;
  /** Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
}

/**
 * The sandbox PSP in another process, over HTTP: what a host configures when several API and
 * worker processes share one sandbox (`npx settlekit-sandbox`), as they would share one real PSP.
 * Its port methods are the sandbox's own, called at `POST <url>/api/<method>`; its webhooks are
 * verified here with the shared secret. A connection refused is `retryable` (`PSP_UNAVAILABLE`:
 * nothing reached the sandbox); a connection that broke or timed out after the request was sent
 * is `indeterminate` (`PSP_TIMEOUT`), as with a real PSP. The controls (`pay`, `settle`,
 * `payments`…) play the buyer and the bank from a test.
 */
export interface RemoteSandboxProvider extends PaymentProvider {
  readonly id: "sandbox";
  /** Calls `/api/<name>` with `args` (see the server's list); resolves with its decoded result. */
  call<T = unknown>(name: string, ...args: unknown[]): Promise<T>;
  pay(pspReference: string, options?: SandboxPayOptions): Promise<RetrievedPayment>;
  settle(pspReference: string): Promise<RetrievedPayment>;
  payments(): Promise<Readonly<SandboxPayment>[]>;
  refunds(): Promise<Readonly<SandboxRefund>[]>;
  payouts(): Promise<Readonly<SandboxPayout>[]>;
  deliveries(): Promise<SandboxDelivery[]>;
  /** Resolves when the server has no webhook POST queued or in flight. */
  idle(): Promise<void>;
}

const CONNECT_REFUSED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH"]);

function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function remoteSandboxProvider(options: RemoteSandboxOptions): RemoteSandboxProvider {
  const base = options.url.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 10_000;
  const doFetch = options.fetch ?? globalThis.fetch;
  const tolerance = options.webhookToleranceSeconds ?? 300;

  async function call<T>(name: string, ...args: unknown[]): Promise<T> {
    let response: Response;
    let text: string;
    try {
      response = await doFetch(`${base}/api/${name}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: encode({ args }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const code = causeCode(error);
      if (code !== undefined && CONNECT_REFUSED.has(code)) {
        throw new PspError(
          "PSP_UNAVAILABLE",
          "retryable",
          `Sandbox at ${base} refused the connection (${code}).`,
          {
            pspCode: "connection_refused",
            cause: error,
          },
        );
      }
      throw new PspError(
        "PSP_TIMEOUT",
        "indeterminate",
        `Sandbox at ${base} did not answer ${name} (${code ?? (error as Error).name}); it may have taken effect.`,
        { pspCode: "timeout", cause: error },
      );
    }
    let body: { result?: unknown; error?: WireError };
    try {
      body = decode(text) as typeof body;
    } catch {
      throw new PspError(
        response.status >= 500 ? "PSP_TIMEOUT" : "PSP_REQUEST_REJECTED",
        response.status >= 500 ? "indeterminate" : "fatal",
        `Sandbox at ${base} answered ${name} with HTTP ${response.status} and no JSON.`,
        { pspCode: `http_${response.status}` },
      );
    }
    if (body.error) throw errorFromWire(body.error);
    return body.result as T;
  }

  return {
    id: "sandbox",
    capabilities: SANDBOX_CAPABILITIES,
    call,
    createHostedPayment: (input: CreateHostedPaymentInput) =>
      call<HostedPayment>("createHostedPayment", input),
    retrievePayment: (input: { pspReference: string }) => call<RetrievedPayment>("retrievePayment", input),
    parseWebhook: async (input: WebhookInput): Promise<PspEvent[]> =>
      parseSandboxWebhook(input, options.webhookSecret, tolerance, () => new Date()),
    refund: (input: RefundInput) => call<RefundResult>("refund", input),
    cancelHostedPayment: (input: CancelHostedPaymentInput) =>
      call<CanceledHostedPayment>("cancelHostedPayment", input),
    retrieveRefund: (input: RetrieveRefundInput) => call<RetrievedRefund | null>("retrieveRefund", input),
    payout: (input: PayoutInput) => call<PayoutResult>("payout", input),
    retrievePayout: (input: RetrievePayoutInput) => call<PayoutResult | null>("retrievePayout", input),
    reversePayout: (input: ReversePayoutInput) => call<PayoutReversal>("reversePayout", input),
    retrievePayoutReversal: (input: RetrievePayoutReversalInput) =>
      call<PayoutReversal | null>("retrievePayoutReversal", input),
    async *readSettlement(query: SettlementQuery): AsyncIterable<SettlementRecord> {
      yield* await call<SettlementRecord[]>("readSettlement", query);
    },
    pay: (pspReference, payOptions = {}) => call<RetrievedPayment>("pay", pspReference, payOptions),
    settle: (pspReference) => call<RetrievedPayment>("settle", pspReference),
    payments: () => call("payments"),
    refunds: () => call("refunds"),
    payouts: () => call("payouts"),
    deliveries: () => call("deliveries"),
    idle: async () => void (await call("idle")),
  };
}
