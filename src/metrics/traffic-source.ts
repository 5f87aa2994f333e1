// The one place metrics and autoscaling read the balancer's per-replica counters from: the proxy
// handle's counters(), which asks the proxy processes now (stats() may be ~250 ms old), so a
// scrape right after a burst of requests counts all of them.
import type { Proxy, ReplicaStats } from '../proxy/index.ts';

export type TrafficSource = () => Promise<ReplicaStats[]>;

export function proxyTraffic(proxy: Pick<Proxy, 'counters'>): TrafficSource {
  return () => proxy.counters();
}
