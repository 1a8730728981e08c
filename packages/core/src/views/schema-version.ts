/**
 * The version of every event payload's schema today (`schema_version` in the payload, the
 * `Settlekit-Schema-Version` header on NATS). A change a closed schema would reject bumps it.
 * - 1: the first published schemas.
 * - 2: `refund.succeeded` carries `reversed` (always `false`), so both refund outcomes have one
 *   shape: the refund's view plus `reversed`.
 */
export const EVENT_SCHEMA_VERSION = 2;
