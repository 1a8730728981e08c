// The operator's "Reconcile" form: sends the chosen settlement file as the body of
// POST /v1/reconciliations (the server streams it, never holding it whole), with the PSP, format
// and day in the query — or, with a bank statement chosen too, both files as one multipart form
// (`settlement` first, then `bank`: both are streamed) — then opens the run. The same files again
// open the same run.
const form = document.querySelector("form.reconcile");
if (form) {
  const button = form.querySelector("button[type=submit]");
  const error = form.querySelector(".error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const file = data.get("file");
    const from = String(data.get("date"));
    if (!(file instanceof File) || !file.name || !/^\d{4}-\d{2}-\d{2}$/.test(from)) {
      error.textContent = "Choose a settlement file and its day.";
      return;
    }
    const to = new Date(Date.parse(`${from}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const query = new URLSearchParams({
      provider: String(data.get("provider")),
      format: String(data.get("format")),
      period_from: from,
      period_to: to,
    });
    button.disabled = true;
    error.textContent = "";
    try {
      const bank = data.get("bank");
      let init = { method: "POST", headers: { "Content-Type": "text/csv" }, body: file };
      if (bank instanceof File && bank.name) {
        const both = new FormData();
        both.append("settlement", file, file.name);
        both.append("bank", bank, bank.name);
        // The browser sets multipart/form-data with its boundary.
        init = { method: "POST", body: both };
      }
      const res = await fetch(`/v1/reconciliations?${query}`, init);
      const body = await res.json();
      if (res.ok) {
        location.assign(`/operator/reconciliations/${encodeURIComponent(body.id)}`);
        return;
      }
      error.textContent = body.error?.message ?? "The file could not be reconciled.";
    } catch {
      error.textContent = "The shop could not be reached; try again.";
    }
    button.disabled = false;
  });
}
