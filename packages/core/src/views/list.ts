import type { JsonObject, JsonValue } from "../ports/json.js";
import type { Page, PaymentEvent } from "../results.js";

/**
 * The JSON of a page (`object: "list"`): its items through `view`, and `has_more` (the REST API
 * pages with `starting_after`/`before_id` = the last item's id).
 */
export function listView<T>(page: Page<T>, view: (item: T) => JsonValue): JsonObject {
  return { object: "list", data: page.data.map(view), has_more: page.hasMore };
}

/** One entry of a payment's timeline (`object: "event"`). */
export function paymentEventView(event: PaymentEvent): JsonObject {
  return {
    id: event.id,
    object: "event",
    type: event.type,
    created_at: event.createdAt.toISOString(),
    data: event.data,
  };
}
