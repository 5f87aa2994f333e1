// Numbers and events as people read them.
import type { HerdEvent, Replica } from './types.ts';

export function bytes(n: number | undefined): string {
  if (n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function percent(n: number | undefined): string {
  return n === undefined ? '–' : `${n.toFixed(1)} %`;
}

export function seconds(s: number | undefined): string {
  if (s === undefined) return '–';
  return s < 1 ? `${(s * 1000).toFixed(s < 0.01 ? 1 : 0)} ms` : `${s.toFixed(2)} s`;
}

export function rate(n: number | undefined): string {
  return n === undefined ? '–' : n.toFixed(n < 10 ? 1 : 0);
}

/** `running (healthy)`, as `herd ps` writes the state. */
export function stateText(r: Replica): string {
  const health = r.health && r.health !== 'none' ? ` (${r.health})` : '';
  return `${r.state}${health}`;
}

export function endpoint(r: Replica): string {
  if (r.endpoint) return r.endpoint;
  return r.port !== undefined ? `${r.host ?? '127.0.0.1'}:${r.port}` : '';
}

export function clock(at: number): string {
  return new Date(at).toLocaleTimeString();
}

const KIND: Record<string, string> = {
  update: 'update',
  restart: 'rolling restart',
  rollback: 'rollback',
};

/** One line per event, as `herd events` says it: exits with their reason, health changes (as
 * `ps` shows the state), who scaled and why, updates, restarts and rollbacks. */
export function eventText(e: HerdEvent): string {
  const r = e.replica;
  switch (e.type) {
    case 'replica': {
      if (!r) return 'replica changed';
      const exit = r.lastExit;
      const how =
        exit && (r.state === 'exited' || r.state === 'backoff')
          ? exit.oomKilled
            ? ' (OOMKilled)'
            : exit.signal
              ? ` (${exit.signal})`
              : ` (exit ${exit.exitCode ?? '?'})`
          : '';
      const health =
        r.state === 'running' && r.health && r.health !== 'none' ? ` (${r.health})` : '';
      return `${r.name} ${r.state}${health}${how}${r.reason ? `: ${r.reason}` : ''}`;
    }
    case 'ready':
      return `${r?.name} joined the balancer`;
    case 'unready':
      return `${r?.name} left the balancer${e.reason ? `: ${e.reason}` : ''}`;
    case 'scaled':
      return e.autoscale
        ? `${e.service} autoscaled ${e.from} → ${e.to}: ${e.autoscale.reason}`
        : `${e.service} scaled ${e.from} → ${e.to}`;
    case 'update': {
      const u = e.update;
      if (!u) return 'update';
      const starting =
        u.state === 'updating' || (u.kind === 'rollback' && u.state === 'rolling back');
      const state = starting ? 'started' : u.state;
      const why = u.message ? `: ${u.message.split('\n')[0]}` : '';
      return `${u.service} ${KIND[u.kind ?? 'update'] ?? u.kind} ${state}${why}`;
    }
    case 'notice':
      return `${e.name ?? e.service ?? 'herd'}: ${e.message}`;
    default:
      return `${e.type}${e.service ? ` ${e.service}` : ''}${e.message ? `: ${e.message}` : ''}`;
  }
}
