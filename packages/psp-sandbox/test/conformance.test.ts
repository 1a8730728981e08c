import { runProviderConformance } from "@settlekit/core/testing";
import { sandboxHarness } from "./support/sandbox-harness.js";

// The same suite over both delivery modes: webhooks read from the sandbox's log, and webhooks
// POSTed to a real node:http receiver (what a host's endpoint sees).
runProviderConformance({
  name: "sandbox (recorded webhooks)",
  makeProvider: () => sandboxHarness("recorded"),
});
runProviderConformance({ name: "sandbox (webhooks over HTTP)", makeProvider: () => sandboxHarness("http") });
// The sandbox as its own process would serve it (`settlekit-sandbox`), the port over HTTP.
runProviderConformance({
  name: "sandbox over HTTP (remoteSandboxProvider)",
  makeProvider: () => sandboxHarness("http", { remote: true }),
});
