import type { IncomingMessage } from "node:http";
import type { Application, Express } from "express";
import { ApiError } from "./errors.js";

/** Where a body read ahead of the host's parsers is kept on the request. */
const RAW = Symbol.for("settlekit.express-router.rawBody");
const HOOKED = Symbol.for("settlekit.express-router.hooked");

type Raw = Buffer | "too_large";
type WithRaw = IncomingMessage & { [RAW]?: Raw; body?: unknown };

const hasBody = (req: IncomingMessage): boolean =>
  req.headers["transfer-encoding"] !== undefined ||
  (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0");

/** Reads the whole body, up to `limit` bytes; a longer one is drained and reported as too large. */
function readRaw(req: IncomingMessage, limit: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > limit ? "too_large" : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/**
 * The request body's bytes, read at most once. Either they were read ahead (see
 * {@link readAheadOnMount}), or the stream is still unread and is read now. When a body parser
 * of the host consumed them first, `undefined`: the caller falls back to the parsed `req.body`.
 */
export async function rawBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const request = req as WithRaw;
  if (request[RAW] === undefined && !req.readableEnded && hasBody(req)) {
    request[RAW] = await readRaw(req, limit);
  }
  const raw = request[RAW];
  if (raw === "too_large") throw new ApiError("PAYLOAD_TOO_LARGE", `The body is larger than ${limit} bytes.`);
  if (raw !== undefined) return raw;
  return hasBody(req) ? undefined : Buffer.alloc(0);
}

/**
 * Makes webhooks (which need the exact bytes) and the API's own parsing independent of mount
 * order: when the router is mounted with `app.use(...)`, the parent app's `handle` is wrapped so
 * that bodies of requests under the router's path are read before ANY of the host's middleware
 * (a global `express.json()` then finds the stream finished and leaves it alone).
 */
export function readAheadOnMount(router: Express, ownsPath: (path: string) => boolean, limit: number): void {
  type Handle = (req: WithRaw, res: unknown, next: unknown) => void;
  // `handle` is what an Express app runs for each request (`app(req, res)` calls it); untyped.
  router.on("mount", (parent: Application & { handle?: Handle; [HOOKED]?: boolean }) => {
    const handle = parent.handle?.bind(parent);
    if (!handle || parent[HOOKED]) return;
    parent[HOOKED] = true;
    parent.handle = (req, res, next) => {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      if (req.method !== "POST" || req[RAW] !== undefined || !hasBody(req) || !ownsPath(path)) {
        return handle(req, res, next);
      }
      readRaw(req, limit).then(
        (raw) => {
          req[RAW] = raw;
          handle(req, res, next);
        },
        // A broken upload: let the host's stack see the stream as it is.
        () => handle(req, res, next),
      );
    };
  });
}

/** What a host's body parser made of the body (`req.body`), when it read the bytes first. */
export const parsedBody = (req: IncomingMessage): unknown => (req as WithRaw).body ?? {};

/**
 * The body as it arrives, for upload routes: never read whole. A body read ahead anyway (see
 * {@link readAheadOnMount}) or parsed into a Buffer or string by a host parser is used as it is.
 */
export async function* streamBody(req: IncomingMessage): AsyncGenerator<Uint8Array> {
  const request = req as WithRaw;
  const raw = request[RAW];
  if (raw === "too_large") throw new ApiError("PAYLOAD_TOO_LARGE", "The body is too large.");
  if (raw !== undefined) {
    if (raw.length > 0) yield raw;
    return;
  }
  if (!hasBody(req)) return;
  if (req.readableEnded) {
    const parsed = request.body;
    if (Buffer.isBuffer(parsed)) yield parsed;
    else if (typeof parsed === "string") yield Buffer.from(parsed);
    else {
      throw new ApiError(
        "RAW_BODY_UNAVAILABLE",
        "A body parser consumed the upload before settlekit could read it: mount the router before that parser.",
      );
    }
    return;
  }
  // Stopped early (a file over the upload limit, a refused request): the rest is drained, not
  // destroyed, so that the client still gets the answer.
  try {
    for await (const chunk of req.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
  } finally {
    if (!req.readableEnded) req.resume();
  }
}
