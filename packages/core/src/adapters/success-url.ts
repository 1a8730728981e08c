/**
 * The host's success URL with `payment_id=<paymentId>` added to its query, as every provider
 * sends the buyer back (see `CreateHostedPaymentInput.successUrl`). Appended as text, not through
 * `URL.searchParams`, which would re-encode the rest of the query — and break a PSP placeholder
 * such as Stripe's `{PAYMENT_SESSION_ID}` — and keeps the fragment after it.
 */
export function withPaymentId(url: string, paymentId: string): string {
  const hash = url.indexOf("#");
  const base = hash === -1 ? url : url.slice(0, hash);
  const fragment = hash === -1 ? "" : url.slice(hash);
  return `${base}${base.includes("?") ? "&" : "?"}payment_id=${encodeURIComponent(paymentId)}${fragment}`;
}
