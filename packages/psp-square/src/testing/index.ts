/**
 * `@settlekit/psp-square/testing`: a fake Square API server for tests and demos (no network, no
 * account), speaking the snake_case JSON of the endpoints this adapter uses, with a test-control
 * API that plays the buyer on the hosted page, the bank behind ACH and Square's payout run.
 */

export { parseExactJson, stringifyExactJson } from "../json.js";
export type {
  FakeFault,
  FakeOutcome,
  FakeSquareErrorEntry,
  FakeSquareOptions,
  RecordedRequest,
} from "./fake-square.js";
export { FakeSquare, feeFor } from "./fake-square.js";
