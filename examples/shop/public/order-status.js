// The order page: while the payment's outcome is open, poll settlekit's API and re-render the
// page when the status changes. "Try again" starts a new attempt and goes to its hosted page.
const box = document.getElementById("payment");
const { id, status } = box.dataset;
const OPEN = new Set(["created", "requires_payment", "processing"]);

async function poll() {
  try {
    const res = await fetch(`/v1/payments/${id}`, { headers: { Accept: "application/json" } });
    if (res.ok && (await res.json()).status !== status) return location.reload();
  } catch {
    // offline for a moment: keep polling
  }
  setTimeout(poll, 1500);
}
if (OPEN.has(status)) setTimeout(poll, 1500);

// One Idempotency-Key per "Try again" click, kept until the server gives a definite answer: a
// double click, or a click again after a network error, starts one new attempt, not two.
const newKey = () =>
  crypto.randomUUID?.() ??
  Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
const retry = document.getElementById("retry");
let retryKey;
retry?.addEventListener("click", async () => {
  retry.disabled = true;
  retryKey ??= newKey();
  const error = box.querySelector(".error");
  const res = await fetch(`/v1/payments/${id}/retry`, {
    method: "POST",
    headers: { "Idempotency-Key": retryKey },
  }).catch(() => undefined);
  const body = await res?.json().catch(() => undefined);
  if (res?.ok && body.redirect_url) return location.assign(body.redirect_url);
  if (res?.ok) return location.reload();
  // A 409 (the same key still running), a 5xx or no answer may succeed later with the same key.
  if (res && res.status !== 409 && res.status < 500) retryKey = undefined;
  error.textContent = body?.error?.message ?? "Could not start a new attempt; try again.";
  retry.disabled = false;
});
