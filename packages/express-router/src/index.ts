/**
 * `@settlekit/express-router`: the settlekit REST API as an Express 5 app a host mounts with
 * `app.use(createPaymentsRouter(system, { authenticate }))` — zod validation, an OpenAPI 3.1
 * document, Idempotency-Key handling, rate limits, authentication hooks, raw-body webhooks. The
 * same API without Express, as a Fetch handler: `@settlekit/express-router/fetch`.
 */
export type { ApiErrorCode, ApiErrorType, ErrorBody, HttpErrorCode } from "./errors.js";
export { ApiError, ERROR_STATUS, HttpErrorCodes, toErrorResponse } from "./errors.js";
export type { HandlerContext, PaymentsHandler, ServedRoute } from "./handler.js";
export { createPaymentsHandler } from "./handler.js";
export { toNodeListener } from "./node.js";
export { openApiDocument } from "./openapi.js";
export type {
  PaymentRequest,
  PaymentsHandlerOptions,
  PaymentsRequest,
  RateBudget,
  RateLimitOptions,
  RefundAuthorizationRequest,
} from "./options.js";
export type { PaymentsRouter, PaymentsRouterOptions, RefundRequester } from "./router.js";
export { createPaymentsRouter } from "./router.js";
export type { Access, Route, RouteContext, RouteResult } from "./routes.js";
export { ROUTES } from "./routes.js";
