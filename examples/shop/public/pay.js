// The cart's "Pay" buttons: create the payment through settlekit's REST API, then go to the PSP's
// hosted page. One Idempotency-Key per payment click: a double click, or a retry after a network
// error, sends the same key, so the server creates at most one payment.
const newKey = () =>
  crypto.randomUUID?.() ??
  Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");

for (const form of document.querySelectorAll("form.pay")) {
  const button = form.querySelector("button[type=submit]");
  const error = form.querySelector(".error");
  let key; // set when a click starts, kept until the server gives a definite answer
  let inFlight = false;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (inFlight) return; // the first click's request is still on its way
    inFlight = true;
    key ??= newKey();
    button.disabled = true;
    error.textContent = "";
    const payment = JSON.parse(form.dataset.payment); // currency, orders, success and cancel URLs
    try {
      const res = await fetch("/v1/payments", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": key },
        body: JSON.stringify({ ...payment, method: new FormData(form).get("method") }),
      });
      const body = await res.json();
      if (res.ok) {
        // 201: off to the hosted page. 202: the PSP is retried in the background; the order
        // page waits for it.
        location.assign(body.redirect_url ?? `/orders/${body.id}`);
        return;
      }
      // A 409 (the same key still running) or a 5xx may succeed later with the same key; any other
      // answer is final for this request, and the next click is a new one.
      if (res.status !== 409 && res.status < 500) key = undefined;
      error.textContent = body.error?.message ?? "The payment could not be started.";
    } catch {
      error.textContent = "The network failed; press the button again to retry.";
    }
    inFlight = false;
    button.disabled = false;
  });
}
