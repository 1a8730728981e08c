/**
 * `@settlekit/express-router`: the settlekit REST API as an Express 5 app a host mounts with
 * `app.use(createPaymentsRouter(system, { authenticate }))` — zod validation, an OpenAPI 3.1
 * document, Idempotency-Key handling, rate limits, authentication hooks, raw-body webhooks.
 */
export type { ApiErrorCode, ApiErrorType, ErrorBody, HttpErrorCode } from "./errors.js";
export { ApiError, ERROR_STATUS, HttpErrorCodes, toErrorResponse } from "./errors.js";
export { openApiDocument } from "./openapi.js";
export type {
  PaymentRequest,
  PaymentsRouterOptions,
  RateBudget,
  RateLimitOptions,
  RefundAuthorizationRequest,
  RefundRequester,
} from "./options.js";
export { createPaymentsRouter } from "./router.js";
export type { Access, Route, RouteContext, RouteResult } from "./routes.js";
export { ROUTES } from "./routes.js";
