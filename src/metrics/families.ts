// herd's metric families as plain data: what one sample of the stack looks like in Prometheus'
// terms. The sampler (sampler.ts) builds them; the exporter (exporter.ts) hands them to prom-client.

export type Labels = Record<string, string>;

export interface Sample {
  labels: Labels;
  value: number;
  /** `_bucket`, `_sum`, `_count` for histograms. */
  suffix?: string;
}

export interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  samples: Sample[];
}

export const HELP = {
  herd_http_requests_total:
    'HTTP requests the balancer forwarded to a replica, by the status it answered.',
  herd_http_request_duration_seconds: 'Time from forwarding a request to the end of its response.',
  herd_http_requests_in_flight: 'HTTP requests forwarded to a replica and not answered yet.',
  herd_tcp_connections_total: 'TCP-mode connections the balancer made to a replica.',
  herd_connections_open: 'Open TCP-mode connections and upgraded tunnels (WebSocket) to a replica.',
  herd_replicas: 'Replicas of a service by state.',
  herd_replicas_ready: 'Replicas of a service in the balancer pool (running and ready).',
  herd_restarts_total: 'Replica restarts by the restart policy or healing, by cause.',
  herd_replica_cpu_seconds_total: "CPU time of a replica's process group (user + system).",
  herd_replica_memory_bytes: "Resident memory of a replica's process group.",
  herd_autoscale_desired_replicas: 'The replica count the autoscaler wants for a service.',
} as const;

export type FamilyName = keyof typeof HELP;

export function family(name: FamilyName, type: Family['type'], samples: Sample[]): Family {
  return { name, help: HELP[name], type, samples };
}

/** A histogram from per-bucket counts (not cumulative) and their upper bounds: Prometheus'
 * cumulative `le` buckets, `+Inf`, `_sum` and `_count`. */
export function histogramSamples(
  labels: Labels,
  bounds: readonly number[],
  counts: number[],
  sum: number,
): Sample[] {
  const out: Sample[] = [];
  let total = 0;
  counts.forEach((n, i) => {
    total += n;
    const le = i < bounds.length ? String(bounds[i]) : '+Inf';
    out.push({ labels: { ...labels, le }, value: total, suffix: '_bucket' });
  });
  out.push({ labels, value: sum, suffix: '_sum' });
  out.push({ labels, value: total, suffix: '_count' });
  return out;
}
