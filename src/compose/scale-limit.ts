// How far a service may be scaled (a rule of the compose file, so the CLI, the engine and the
// balancer's port plan all check it the same way): herd's own limit per service, and the one Compose puts on it —
// `ports: "8080-8082:80"` gives each replica one host port of the range, so a service cannot have
// more replicas than the range has ports.
import { MAX_REPLICAS } from './limits.ts';
import type { Service } from './model.ts';
import { HerdError } from '../util/errors.ts';

/** Throws a HerdError naming the service (and the port range) when `n` replicas do not fit. */
export function checkScaleLimit(service: Service, n: number): void {
  if (n > MAX_REPLICAS)
    throw new HerdError(
      `service "${service.name}": scale ${n} is over herd's limit of ${MAX_REPLICAS} replicas per service`,
      'INVALID_ARGUMENT',
    );
  for (const p of service.ports) {
    if (!p.published || p.published.end === p.published.start) continue;
    const { start, end } = p.published;
    const width = end - start + 1;
    if (n > width)
      throw new HerdError(
        `service "${service.name}": scale ${n} needs ${n} host ports but ports "${start}-${end}:${p.target}" ` +
          `has only ${width}; widen the range or publish a single port to load-balance`,
        'INVALID_ARGUMENT',
      );
  }
}
