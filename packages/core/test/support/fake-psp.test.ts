import { manualClock } from "../../src/runtime/clock.js";
import { runProviderConformance } from "../../src/testing/provider/run-provider-conformance.js";
import { fakePsp } from "./fake-psp.js";

// The fake core's service tests run on is held to the same contract as every real adapter.
runProviderConformance({
  name: "core's fake PSP",
  makeProvider: async () => fakePsp(manualClock(new Date("2026-03-01T12:00:00.000Z"))),
});
