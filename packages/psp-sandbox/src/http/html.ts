/**
 * HTML helpers for the hosted page. Every value that did not come from this file (order
 * descriptions, metadata, references, error codes from the query string) goes through
 * {@link escapeHtml}; the page builds strings, so forgetting it once would be an XSS.
 */

const ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (ch) => ENTITIES[ch]!);
}

/** A tagged template that escapes every interpolation unless it is already {@link Html}. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return new Html(out);
}

/** Markup that is already safe (built by {@link html}). */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Safe markup as is, arrays item by item (for lists of rows), anything else escaped. */
function render(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(value);
}

const STYLE = `
body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}label{display:block;margin-top:.8rem;font-weight:600}
input{font:inherit;padding:.4rem;width:100%;box-sizing:border-box}
button{font:inherit;margin-top:1rem;padding:.5rem 1rem}
.alert{border:2px solid #b00020;padding:.6rem;margin:1rem 0}.muted{color:#555}
table{width:100%;border-collapse:collapse}td{padding:.2rem 0}td:last-child{text-align:right}
`;

/** The page around `body`: language, viewport, title, and a `main` landmark. */
export function layout(title: string, body: Html): string {
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title><style>${new Html(STYLE)}</style></head><body><main>${body}</main></body></html>`}`;
}

/**
 * Headers for every hosted page: no caching of payment pages, no framing (clickjacking), no
 * scripts at all, and no referrer leaking the payment reference to the next site.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};
