/** One answer of the API; a broken connection or a timeout is status 0. */
export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly replayed: boolean;
  readonly retryAfter: string | null;
}

export interface Tally {
  sent: number;
  acknowledged: number;
  readonly statuses: Map<number, number>;
  readonly fiveHundreds: string[];
}

export const newTally = (): Tally => ({ sent: 0, acknowledged: 0, statuses: new Map(), fiveHundreds: [] });

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A client of the API behind the balancer, counting what it sends and what is answered. */
export function apiClient(base: string, tally: Tally, timeoutMs = 20_000) {
  async function once(
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: unknown } = {},
  ): Promise<Answer> {
    tally.sent++;
    let answer: Answer;
    try {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(init.body !== undefined ? { "Content-Type": "application/json" } : {}),
          ...init.headers,
        },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      let body: Record<string, unknown> = {};
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        body = { text };
      }
      answer = {
        status: res.status,
        body,
        replayed: res.headers.get("Idempotent-Replayed") === "true",
        retryAfter: res.headers.get("Retry-After"),
      };
    } catch {
      answer = { status: 0, body: {}, replayed: false, retryAfter: null };
    }
    tally.statuses.set(answer.status, (tally.statuses.get(answer.status) ?? 0) + 1);
    if (answer.status >= 500 && answer.status !== 503)
      tally.fiveHundreds.push(
        `${method} ${path} → ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`,
      );
    return answer;
  }

  /**
   * Sends until the API answers something final (not a broken connection, a 503 or a 409 key in
   * use), as a client with an idempotency key does; bounded by `patienceMs`.
   */
  async function settled(
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: unknown } = {},
    patienceMs = 90_000,
  ): Promise<Answer> {
    const deadline = Date.now() + patienceMs;
    for (;;) {
      const answer = await once(method, path, init);
      const code = (answer.body.error as { code?: string } | undefined)?.code;
      const transient =
        answer.status === 0 ||
        answer.status >= 500 ||
        (answer.status === 409 && (code === "idempotency_key_in_use" || code === "store_conflict"));
      if (!transient) {
        if (answer.status < 300) tally.acknowledged++;
        return answer;
      }
      if (Date.now() > deadline)
        throw new Error(
          `${method} ${path}: no final answer within ${patienceMs} ms (last ${answer.status} ${code ?? ""})`,
        );
      await pause(answer.status === 503 ? 400 : 250);
    }
  }
  return { once, settled };
}
