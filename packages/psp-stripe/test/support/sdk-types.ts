import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * Reads request parameter names out of the pinned stripe-node's `.d.ts` files (no TypeScript
 * compiler: the generated declarations are regular enough for a brace-matching reader). An
 * interface's properties are its parameter names; a property typed `Outer.Inner` (or
 * `Array<Outer.Inner>`) is a sub-hash, resolved through the namespace of the same name, as the
 * SDK declares them (`SessionCreateParams.PaymentIntentData`).
 */
export interface TypeNode {
  readonly kind: string;
  readonly name: string;
  readonly props: Map<string, string>;
  readonly children: TypeNode[];
  readonly parent: TypeNode | undefined;
}

const stripeRoot = dirname(dirname(createRequire(import.meta.url).resolve("stripe")));

/** The SDK's version, from its own package.json. */
export const SDK_VERSION: string = JSON.parse(readFileSync(join(stripeRoot, "package.json"), "utf8")).version;

const DECLARATION = /^(?:export\s+)?(?:declare\s+)?(interface|namespace|class|module)\s+([\w.]+)[^{;=]*\{/;
const PROPERTY = /^(?:readonly\s+)?([A-Za-z_]\w*)(\??)\s*:\s*([\s\S]*)$/;

function parse(source: string): TypeNode {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  let i = 0;
  const body = (node: TypeNode): void => {
    while (i < text.length) {
      while (i < text.length && /\s/.test(text[i]!)) i++;
      if (i >= text.length) return;
      if (text[i] === "}") {
        i++;
        return;
      }
      const declaration = DECLARATION.exec(text.slice(i, i + 400));
      if (declaration) {
        i += declaration[0].length;
        const child: TypeNode = {
          kind: declaration[1]!,
          name: declaration[2]!,
          props: new Map(),
          children: [],
          parent: node,
        };
        node.children.push(child);
        body(child);
        continue;
      }
      // One statement: up to `;` outside brackets (or the enclosing `}`).
      let depth = 0;
      const start = i;
      for (; i < text.length; i++) {
        const c = text[i]!;
        if (c === "{" || c === "(" || c === "[") depth++;
        else if (c === ")" || c === "]") depth--;
        else if (c === "}") {
          if (depth === 0) break;
          depth--;
        } else if (c === ";" && depth === 0) break;
      }
      const statement = text.slice(start, i).trim();
      if (text[i] === ";") i++;
      const property = PROPERTY.exec(statement);
      if (property && node.kind === "interface") node.props.set(property[1]!, property[3]!.trim());
    }
  };
  const root: TypeNode = { kind: "file", name: "", props: new Map(), children: [], parent: undefined };
  body(root);
  return root;
}

const files = new Map<string, TypeNode>();

/** The parsed declarations of `esm/resources/<file>` in the installed stripe package. */
export function sdkFile(file: string): TypeNode {
  let node = files.get(file);
  if (!node) {
    node = parse(readFileSync(join(stripeRoot, "esm", "resources", file), "utf8"));
    files.set(file, node);
  }
  return node;
}

function find(node: TypeNode, kind: string, name: string): TypeNode | undefined {
  for (const child of node.children) {
    if (child.kind === kind && child.name === name) return child;
  }
  for (const child of node.children) {
    const found = find(child, kind, name);
    if (found) return found;
  }
  return undefined;
}

/** The interface `name` (e.g. `SessionCreateParams`) anywhere in `file`. */
export function sdkInterface(file: string, name: string): TypeNode {
  const found = find(sdkFile(file), "interface", name);
  if (!found) throw new Error(`stripe ${SDK_VERSION}: no interface ${name} in ${file}`);
  return found;
}

/**
 * The interface a property's type names, when it is a sub-hash: `A.B` is interface `B` of the
 * namespace `A` that is a sibling of the interface or of one of its enclosing namespaces.
 */
export function subInterface(owner: TypeNode, type: string): TypeNode | undefined {
  const reference = /\b([A-Z]\w*(?:\.[A-Z]\w*)+)\b/.exec(type)?.[1];
  if (!reference) return undefined;
  const [first, ...rest] = reference.split(".");
  for (let scope = owner.parent; scope; scope = scope.parent) {
    let node = scope.children.find((c) => c.kind === "namespace" && c.name === first);
    if (!node) continue;
    for (const [index, name] of rest.entries()) {
      const kind = index === rest.length - 1 ? "interface" : "namespace";
      node = node?.children.find((c) => c.kind === kind && c.name === name);
    }
    return node;
  }
  return undefined;
}
