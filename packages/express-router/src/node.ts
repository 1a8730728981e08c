import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { HandlerContext } from "./handler.js";
import { responseText } from "./handler.js";

/** A Fetch handler as `createPaymentsHandler` returns it (any other works too). */
type FetchHandler = (request: Request, context?: HandlerContext) => Promise<Response>;

/** Node's request headers as `Headers` (repeated ones as Node joined them; `set-cookie` each). */
export function toHeaders(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.append(name, value);
  }
  return headers;
}

/** A Host header that is a host (a name, IPv4 or [IPv6]) and maybe a port, nothing else. */
const HOST = /^(?:[\w-]+(?:\.[\w-]+)*\.?|\[[\da-f:.]+\])(?::\d{1,5})?$/i;

/** Methods the Fetch API will not put in a `Request`: sent as GET, the real one in the context. */
const FORBIDDEN_METHOD = /^(?:CONNECT|TRACE|TRACK)$/i;

/**
 * A `Request` for Node's `req` at `path` (`req.url`, or the part under a mount path): the URL is
 * `http(s)://` + the Host header (`localhost` when it is not a valid host) + `path`, the headers
 * as Node joined them. A method the Fetch API forbids is returned apart, to pass as
 * `context.method`.
 */
export function toRequest(
  req: IncomingMessage,
  path: string,
  secure: boolean,
  body?: ReadableStream<Uint8Array>,
): { request: Request; method?: string } {
  const host = req.headers.host !== undefined && HOST.test(req.headers.host) ? req.headers.host : "localhost";
  const scheme = secure ? "https" : "http";
  const method = req.method ?? "GET";
  const forbidden = FORBIDDEN_METHOD.test(method);
  const init = {
    method: forbidden ? "GET" : method,
    // Straight from Node's record (the Request copies it once) unless a header is repeated apart.
    headers: Object.values(req.headers).some(Array.isArray)
      ? toHeaders(req.headers)
      : (req.headers as Record<string, string>),
    ...(body && !forbidden ? { body, duplex: "half" } : {}),
  } as RequestInit;
  let request: Request;
  try {
    request = new Request(`${scheme}://${host}${path}`, init);
  } catch {
    // A host no URL can have (a port over 65535…).
    request = new Request(`${scheme}://localhost${path}`, init);
  }
  return forbidden ? { request, method: method.toUpperCase() } : { request };
}

const hasBody = (req: IncomingMessage): boolean =>
  req.headers["transfer-encoding"] !== undefined ||
  (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0");

/**
 * The request's body as a web stream, read as the handler pulls it. Cancelling (a body over the
 * limit) drains the rest instead of destroying the socket, so the client still gets the answer.
 */
function bodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  let open = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.on("data", (chunk: Buffer) => {
        if (!open) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        req.pause();
      });
      req.on("end", () => {
        if (open) controller.close();
        open = false;
      });
      req.on("error", (error) => {
        if (open) controller.error(error);
        open = false;
      });
      req.pause();
    },
    pull() {
      req.resume();
    },
    cancel() {
      open = false;
      req.resume();
    },
  });
}

/** Writes a `Response` to Node's `res`: status, headers (each `Set-Cookie` apart), body. */
export async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") res.setHeader(name, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("Set-Cookie", cookies);
  const text = responseText(response);
  const body =
    text !== undefined
      ? Buffer.from(text)
      : response.body
        ? Buffer.from(await response.arrayBuffer())
        : undefined;
  if (body !== undefined && !res.hasHeader("Content-Length")) res.setHeader("Content-Length", body.length);
  res.end(body);
}

/**
 * A Fetch handler as a `node:http` request listener: `createServer(toNodeListener(handler))`, or
 * any server that hands out Node's `req`/`res` (Fastify's `reply.hijack()`, Koa's `ctx.req`…).
 * The URL is `http(s)://<Host header>` + `req.url`; the client IP is the socket's peer address
 * (behind a proxy, pass the real one: `toNodeListener(handler, { clientIp: (req) => … })`).
 * Streaming responses are written once complete.
 */
export function toNodeListener(
  handler: FetchHandler,
  options: { clientIp?(req: IncomingMessage): string | undefined } = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const secure = (req.socket as TLSSocket).encrypted === true;
    const withBody = req.method !== "GET" && req.method !== "HEAD" && hasBody(req);
    let converted: ReturnType<typeof toRequest>;
    try {
      converted = toRequest(req, req.url ?? "/", secure, withBody ? bodyStream(req) : undefined);
    } catch {
      // A target no URL can be made of.
      res.statusCode = 400;
      res.end();
      return;
    }
    const { request, method } = converted;
    const context: HandlerContext = {
      clientIp: options.clientIp ? options.clientIp(req) : req.socket.remoteAddress,
      secure,
      ...(method ? { method } : {}),
    };
    handler(request, context)
      .then((response) => writeResponse(response, res))
      .catch((error: unknown) => {
        if (!res.headersSent) res.statusCode = 500;
        res.destroy(error instanceof Error ? error : undefined);
      });
  };
}
