/**
 * `@settlekit/express-router/fetch`: the settlekit REST API as a web-standard Fetch handler,
 * `(request: Request) => Promise<Response>`, for Hono, Next.js route handlers, Bun.serve, Deno,
 * Fastify or `node:http` (through `toNodeListener`). No Express needed.
 */
export type { ApiErrorCode, ApiErrorType, ErrorBody, HttpErrorCode } from "./errors.js";
export { ApiError, ERROR_STATUS, HttpErrorCodes, toErrorResponse } from "./errors.js";
export type { HandlerContext, PaymentsHandler, ServedRoute } from "./handler.js";
export { createPaymentsHandler } from "./handler.js";
export { toNodeListener } from "./node.js";
export { openApiDocument } from "./openapi.js";
export type {
  OperatorAuthorization,
  PaymentRequest,
  PaymentsHandlerOptions,
  PaymentsRequest,
  RateBudget,
  RateLimitOptions,
  RefundAuthorizationRequest,
  RefundRequester,
} from "./options.js";
export type { Access, Route, RouteContext, RouteResult } from "./routes.js";
export { ROUTES } from "./routes.js";
export type { Served, ServeOptions, ShutdownResult } from "./serve.js";
export { serve } from "./serve.js";
