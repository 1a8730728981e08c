import type { JsonObject } from "../ports/json.js";
import type { DeadLetter } from "../results.js";

/** A dead-lettered job as the operator API shows it. */
export const deadLetterView = (job: DeadLetter): JsonObject => ({
  id: job.id,
  object: "job",
  type: job.type,
  status: job.status,
  attempts: job.attempts,
  max_attempts: job.maxAttempts,
  last_error: job.lastError,
  payload: job.payload,
  history: job.history.map((h) => ({
    attempt: h.attempt,
    at: h.at,
    workerId: h.workerId,
    outcome: h.outcome,
    ...(h.error !== undefined ? { error: h.error } : {}),
  })),
  created_at: job.createdAt.toISOString(),
  updated_at: job.updatedAt.toISOString(),
});
