/**
 * `@settlekit/express-router`: the settlekit REST API as an Express 5 app a host mounts with
 * `app.use(createPaymentsRouter(system, { authenticate }))` — zod validation, an OpenAPI 3.1
 * document, Idempotency-Key handling, rate limits, authentication hooks, raw-body webhooks. The
 * same API without Express, as a Fetch handler: `@settlekit/express-router/fetch`, whose exports
 * this entry has too (with `RefundRequester` typed for Express's `req` here).
 */
export * from "./fetch.js";
export type { PaymentsRouter, PaymentsRouterOptions, RefundRequester } from "./router.js";
export { createPaymentsRouter } from "./router.js";
