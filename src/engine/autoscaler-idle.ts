// Scale to zero (`autoscale: { min: 0, idle: 10m }`): a service whose balancer forwarded no request
// and had none in flight for `idle` is scaled to 0, and a request the balancer holds for it (the
// proxy says so at once, see proxy/balancer.ts onHold) scales it back to 1. The HPA's rule itself
// never goes below 1 for such a service: only idleness takes it to zero, only a request wakes it.
import { checkAutoscale } from '../compose/autoscale.ts';
import type { Service } from '../compose/model.ts';
import type { AutoscaleDecision } from './events.ts';
import { rolloutSettings } from './rollout.ts';

interface Seen {
  /** The service's forwarded requests at the last sample. */
  requests: number;
  /** When a request was last seen (counted or in flight), or the service woken. */
  activeAt: number;
  /** When it was scaled to zero (undefined: it has replicas). */
  zeroAt?: number;
}

/** A scale-to-zero service as `ps` shows it. */
export interface IdleStatus {
  idleMs: number;
  /** How long it has had no request. */
  idleForMs: number;
  /** Scaled to zero since then (epoch ms of the autoscaler's clock). */
  zeroSince?: number;
}

export class IdleWatch {
  private readonly seen = new Map<string, Seen>();

  /** One sample of `service`: its forwarded requests so far and those in flight now. */
  observe(service: string, now: number, requests: number, inFlight: number): void {
    const s = this.seen.get(service);
    if (!s) {
      // First sight (a daemon that just started): idle from now, not since some earlier time.
      this.seen.set(service, { requests, activeAt: now });
      return;
    }
    if (requests !== s.requests || inFlight > 0) s.activeAt = now;
    s.requests = requests;
  }

  /** How long `service` has had no request (0 before its first sample). */
  idleFor(service: string, now: number): number {
    const s = this.seen.get(service);
    return s ? now - s.activeAt : 0;
  }

  zeroed(service: string, now: number): void {
    const s = this.seen.get(service);
    if (s) s.zeroAt = now;
  }

  woke(service: string, now: number): void {
    const s = this.seen.get(service);
    if (!s) return;
    s.activeAt = now;
    delete s.zeroAt;
  }

  status(service: string, idleMs: number, now: number): IdleStatus {
    const s = this.seen.get(service);
    const out: IdleStatus = { idleMs, idleForMs: this.idleFor(service, now) };
    if (s?.zeroAt !== undefined) out.zeroSince = s.zeroAt;
    return out;
  }

  forget(service: string): void {
    this.seen.delete(service);
  }
}

/** How long the balancer holds a request for a service that scales to zero: its ready timeout,
 * since a replica has to start first; undefined for any other service (the default hold). */
export function scaleToZeroHold(service: Service): number | undefined {
  const raw = service.herd.extra.autoscale;
  if (raw === undefined) return undefined;
  const idle = checkAutoscale(raw).value?.idleMs;
  return idle === undefined ? undefined : rolloutSettings(service).readyTimeoutMs;
}

/** The decision that stops every replica of an idle service. */
export function idleDecision(from: number, idleForMs: number, idleMs: number): AutoscaleDecision {
  return {
    from,
    to: 0,
    metric: 'idle',
    value: Math.round(idleForMs / 100) / 10,
    target: idleMs / 1000,
    reason:
      `no request for ${seconds(idleForMs)} (idle: ${seconds(idleMs)}), scaled to zero; ` +
      `the next request starts a replica: ${from} → 0`,
  };
}

/** The decision that wakes a service scaled to zero. */
export function wakeDecision(held: number): AutoscaleDecision {
  return {
    from: 0,
    to: 1,
    metric: 'request',
    value: held,
    target: 0,
    reason: 'a request is waiting at the balancer and no replica runs (scaled to zero): 0 → 1',
  };
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}
