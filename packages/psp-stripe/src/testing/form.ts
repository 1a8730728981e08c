/**
 * Decodes Stripe's form encoding (what stripe-node sends): `a[b][0][c]=v` becomes
 * `{ a: { b: [{ c: "v" }] } }`. Values stay strings, as on the wire; numeric segments make arrays.
 */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type Form = { [key: string]: FormValue };

export function parseForm(body: string): Form {
  const root: Form = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const path = key.split(/\[|\]\[|\]/).filter((s, i) => i === 0 || s !== "");
    let node: Record<string, FormValue> | FormValue[] = root;
    path.forEach((segment, i) => {
      const last = i === path.length - 1;
      const container = node as Record<string, FormValue>;
      if (last) {
        container[segment] = value;
        return;
      }
      if (container[segment] === undefined) container[segment] = /^\d+$/.test(path[i + 1]!) ? [] : {};
      node = container[segment] as Record<string, FormValue>;
    });
  }
  return root;
}

/** Reads a string field, or undefined. */
export const str = (form: Form | undefined, key: string): string | undefined => {
  const value = form?.[key];
  return typeof value === "string" ? value : undefined;
};

/** Reads a nested object field, or undefined. */
export const obj = (form: Form | undefined, key: string): Form | undefined => {
  const value = form?.[key];
  return value !== undefined && typeof value === "object" && !Array.isArray(value) ? value : undefined;
};

/** Reads a list field (an object with "0", "1"… keys or an array) as an array. */
export const list = (form: Form | undefined, key: string): FormValue[] => {
  const value = form?.[key];
  if (Array.isArray(value)) return value;
  if (value !== undefined && typeof value === "object") return Object.values(value);
  return [];
};
