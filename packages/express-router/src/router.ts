import type { PaymentSystem } from "@settlekit/core";
import type { Express, NextFunction, Request, Response } from "express";
import express from "express";
import { parsedBody, rawBody, readAheadOnMount, streamBody } from "./body.js";
import type { ServedRoute } from "./handler.js";
import { createHandler } from "./handler.js";
import { toRequest, writeResponse } from "./node.js";
import type { RefundRequester as HandlerRefundRequester, PaymentsHandlerOptions } from "./options.js";

/** Who asks for a refund (see `authorizeRefund`), with Express's `req`. */
export type RefundRequester = HandlerRefundRequester<Request>;

/** The Fetch handler's options with Express's `Request` for the hooks, and `trustProxy`. */
export interface PaymentsRouterOptions extends PaymentsHandlerOptions<Request> {
  /** Express's `trust proxy` for this router (default: the host app's setting). */
  readonly trustProxy?: boolean | number | string | readonly string[];
}

/** The Express app `createPaymentsRouter` returns, with the routes it serves. */
export type PaymentsRouter = Express & { readonly routes: readonly ServedRoute[] };

/**
 * The settlekit REST API as an Express 5 app to mount: `app.use(createPaymentsRouter(system, {
 * authenticate }))`. A thin adapter over the Fetch handler (`@settlekit/express-router/fetch`):
 * each request under `prefix` (default `/v1`) becomes a `Request`, the handler's `Response` is
 * written back; the hooks get Express's own `req` (with `req.params` of the matched route).
 *
 * It is a sub-application rather than a bare `Router` so that, once mounted, it can read request
 * bodies under its prefix before the host's own body parsers (webhook signatures need the exact
 * bytes), and so that `trustProxy` can apply to it alone.
 */
export function createPaymentsRouter(system: PaymentSystem, options: PaymentsRouterOptions): PaymentsRouter {
  const { handle, prefix, bodyLimit, routes } = createHandler<Request>(system, options);
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  if (options.trustProxy !== undefined) app.set("trust proxy", options.trustProxy);
  const fullPrefix = () => `${app.path()}${prefix}`.replace(/\/{2,}/g, "/").replace(/(.)\/$/, "$1");
  // Uploads (settlement files) are streamed to their route, never read ahead.
  const isUpload = (path: string) =>
    path.toLowerCase().replace(/\/$/, "") === `${fullPrefix()}/reconciliations`.toLowerCase();
  readAheadOnMount(
    app,
    (path) => (path === fullPrefix() || path.startsWith(`${fullPrefix()}/`)) && !isUpload(path),
    bodyLimit,
  );

  app.use(prefix || "/", (req: Request, res: Response, next: NextFunction) => {
    // `req.baseUrl` is the mount path and the prefix as the request spelt them.
    const basePath = req.baseUrl.slice(0, req.baseUrl.length - prefix.length);
    const { request, method } = toRequest(req, req.originalUrl.slice(basePath.length), req.secure);
    handle(request, {
      ...(method ? { method } : {}),
      basePath,
      clientIp: req.ip ?? req.socket.remoteAddress ?? "unknown",
      secure: req.secure,
      hookRequest(view) {
        req.params = { ...view.params };
        return req;
      },
      // The body stays Express's: read ahead of the host's parsers, or parsed by one of them.
      readBody: () => rawBody(req, bodyLimit),
      parsedBody: () => parsedBody(req),
      bodyStream: () => streamBody(req),
    })
      .then((response) => writeResponse(response, res))
      .catch(next);
  });
  return Object.assign(app, { routes });
}
