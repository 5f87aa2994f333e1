// The one place metrics and autoscaling read the balancer's per-replica counters from. Today the
// balancer runs in the daemon and answers at once; once it runs as its own process group the
// daemon-side handle answers with the same shape, and only this adapter changes.
import type { Proxy, ReplicaStats } from '../proxy/index.ts';

export type TrafficSource = () => Promise<ReplicaStats[]>;

export function proxyTraffic(proxy: Pick<Proxy, 'stats'>): TrafficSource {
  return async () => proxy.stats();
}
