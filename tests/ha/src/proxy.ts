import type { TcpProxy } from "@settlekit/core/testing";
import { tcpProxy } from "@settlekit/core/testing";

/**
 * The proxy the harness points at the current primary, as an operator moves a DNS name or a proxy
 * (HAProxy, PgBouncer) in a failover: core's test {@link tcpProxy} with the Postgres URL through it.
 * `switchTo` drops every connection in flight — the clients see their connections reset, as when
 * the server behind them dies — and sends new ones to the new target.
 */
export interface SwitchingProxy extends TcpProxy {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  /** The port new connections go to, or undefined. */
  readonly target: number | undefined;
}

export async function startProxy(target: number): Promise<SwitchingProxy> {
  const proxy = await tcpProxy({ targets: target });
  return Object.create(proxy, {
    url: { value: `postgres://postgres@127.0.0.1:${proxy.port}/postgres` },
    target: { get: () => proxy.targets[0] },
  }) as SwitchingProxy;
}
