import type { StoreHealth } from "@settlekit/core";
import { ErrorCodes, SettlekitError, storeHealth } from "@settlekit/core";
import { z } from "zod";
import { ApiError, HttpErrorCodes } from "./errors.js";
import type { Route } from "./routes.js";

/** Liveness: the process answers. */
const livenessSchema = z
  .object({ status: z.literal("ok") })
  .meta({ id: "Liveness", description: "The process is up and serving HTTP." });

const readinessSchema = z
  .object({
    status: z.literal("ready"),
    store: z.object({
      reachable: z.boolean(),
      writable: z.boolean(),
      latency_ms: z.number().meta({ description: "How long the database check took." }),
      replication: z
        .object({
          standbys: z.number().int().meta({ description: "Standbys streaming from the primary." }),
          synchronous: z.number().int().meta({ description: "Of those, the ones a commit waits for." }),
          lag_ms: z
            .number()
            .nullable()
            .meta({ description: "Replay lag of the furthest standby; null if unknown." }),
          lag_bytes: z
            .number()
            .nullable()
            .meta({ description: "The same in bytes of WAL; null if unknown." }),
        })
        .nullable()
        .meta({ description: "Replication as the primary sees it; null where there is none (embedded)." }),
    }),
  })
  .meta({ id: "Readiness", description: "The database is reachable and takes writes." });

const storeView = (health: StoreHealth) => ({
  reachable: health.reachable,
  writable: health.writable,
  latency_ms: health.latencyMs,
  replication: health.replication && {
    standbys: health.replication.standbys,
    synchronous: health.replication.synchronous,
    lag_ms: health.replication.lagMs,
    lag_bytes: health.replication.lagBytes,
  },
});

/**
 * Probes for load balancers and orchestrators: liveness (`GET /health`, never touches the
 * database, so a database outage does not get healthy processes restarted) and readiness
 * (`GET /health/ready`: 503 with `Retry-After` while the store cannot take writes — down, a
 * standby, read-only — or the process is shutting down (`draining`), so the balancer sends payments elsewhere).
 */
export const HEALTH_ROUTES: readonly Route[] = [
  {
    method: "get",
    path: "/health",
    operationId: "getLiveness",
    summary: "Liveness: the process is up (does not check the database)",
    tag: "health",
    access: "public",
    response: { status: 200, description: "Up.", schema: livenessSchema },
    errors: [],
    async handle() {
      return { status: 200, body: { status: "ok" }, headers: { "Cache-Control": "no-store" } };
    },
  },
  {
    method: "get",
    path: "/health/ready",
    operationId: "getReadiness",
    summary:
      "Readiness: the database is reachable and writable (the primary); 503 `store_unavailable` with Retry-After when not",
    tag: "health",
    access: "public",
    response: { status: 200, description: "Ready to take payments.", schema: readinessSchema },
    errors: [503],
    async handle({ system, options }) {
      if (options.draining?.()) {
        throw new ApiError(HttpErrorCodes.SHUTTING_DOWN, "Not ready: this process is shutting down.");
      }
      const health = await storeHealth(system.deps.store);
      if (!health.writable) {
        throw new SettlekitError(
          ErrorCodes.STORE_UNAVAILABLE,
          health.reachable
            ? "Not ready: the database does not take writes (a standby or read-only)."
            : "Not ready: the database cannot be reached.",
        );
      }
      return {
        status: 200,
        body: { status: "ready", store: storeView(health) },
        headers: { "Cache-Control": "no-store" },
      };
    },
  },
];
