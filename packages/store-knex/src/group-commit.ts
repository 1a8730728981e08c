/** What one item of a group came to: its own result, or its own error. */
export type Outcome<R> = { readonly value: R } | { readonly error: unknown };

/**
 * Group commit: calls made in the same turn of the event loop are handed to `commit` together,
 * so many small writes share one round trip and one durable sync. Each caller gets its own
 * outcome; if `commit` itself throws, every caller of that group gets the error. Groups are cut
 * at `maxGroup` items; several groups may be in flight at once (the pool decides concurrency).
 */
export function groupCommit<T, R>(
  commit: (items: T[]) => Promise<Outcome<R>[]>,
  maxGroup = 256,
): (item: T) => Promise<R> {
  const queue: { item: T; resolve(value: R): void; reject(error: unknown): void }[] = [];
  let scheduled = false;

  async function flush(): Promise<void> {
    const group = queue.splice(0, maxGroup);
    scheduled = queue.length > 0;
    if (scheduled) setImmediate(flush);
    try {
      const outcomes = await commit(group.map((pending) => pending.item));
      group.forEach((pending, i) => {
        const outcome = outcomes[i]!;
        if ("error" in outcome) pending.reject(outcome.error);
        else pending.resolve(outcome.value);
      });
    } catch (error) {
      for (const pending of group) pending.reject(error);
    }
  }

  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}
