import { inspect } from "node:util";
import { expect } from "vitest";

/** A value as a failure message shows it: bigints as `12n`, dates as ISO, nested in full. */
export const show = (value: unknown): string => inspect(value, { depth: 6, breakLength: 100, sorted: true });

/**
 * Asserts that `promise` rejects with an error matching `expected`. A failure names what was
 * sent and what was expected, and when the call did not reject at all, what it resolved with — an
 * adapter author reading a red conformance case sees the input, not only "promise resolved
 * instead of rejecting".
 */
export async function expectRejection(
  promise: Promise<unknown>,
  expected: Readonly<Record<string, unknown>>,
  sent?: unknown,
): Promise<void> {
  const context = sent === undefined ? "" : `\nsent: ${show(sent)}`;
  let resolved: { value: unknown } | undefined;
  try {
    resolved = { value: await promise };
  } catch (error) {
    expect(error, `expected a rejection matching ${show(expected)}${context}`).toMatchObject(expected);
    return;
  }
  expect.fail(
    `expected a rejection matching ${show(expected)}, but the call resolved with ${show(resolved.value)}${context}`,
  );
}
