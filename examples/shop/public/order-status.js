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

const retry = document.getElementById("retry");
retry?.addEventListener("click", async () => {
  retry.disabled = true;
  const error = box.querySelector(".error");
  const res = await fetch(`/v1/payments/${id}/retry`, { method: "POST" }).catch(() => undefined);
  const body = await res?.json().catch(() => undefined);
  if (res?.ok && body.redirect_url) return location.assign(body.redirect_url);
  if (res?.ok) return location.reload();
  error.textContent = body?.error?.message ?? "Could not start a new attempt; try again.";
  retry.disabled = false;
});
