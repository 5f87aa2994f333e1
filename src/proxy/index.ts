// Public surface of herd's load balancer.
export { createProxy } from './proxy.ts';
export { stopLeftProxy } from './process/stop-left.ts';
export type {
  Proxy,
  ProxyOptions,
  PortMapping,
  EngineLike,
  Drainer,
  RoutedReplica,
  IngressPlan,
} from './types.ts';
export type { ReplicaStats } from './counters.ts';
export { LATENCY_BUCKETS_MS } from './counters.ts';
export { Balancer } from './balancer.ts';
export { ProxyListener } from './listener.ts';
export type { ListenMode } from './listener.ts';
export { DEFAULT_HTTP_LIMITS } from './http-limits.ts';
export type { HttpLimits } from './http-limits.ts';
