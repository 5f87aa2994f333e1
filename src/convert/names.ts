// Names and units as Kubernetes spells them: DNS-1123 object names (a Compose service name may hold
// `_`, `.` and capitals), quantities (Compose's 512M is binary: 512Mi, not Kubernetes' 512M) and
// whole seconds.
import { HerdError } from '../util/errors.ts';
import type { ConvertReport } from './report.ts';

const MAX_LABEL = 63;

/** A DNS-1035 label (what a Service name must be, so also fine for every other object): lowercase
 * letters, digits and `-`, starting with a letter, at most 63 characters. */
export function dnsLabel(name: string): string {
  let s = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+/, '');
  if (!/^[a-z]/.test(s)) s = `s-${s}`;
  return s.slice(0, MAX_LABEL).replace(/-+$/, '') || 's';
}

/** True when `name` is already a valid DNS-1123 subdomain (the namespace flag, for instance). */
export function isDnsLabel(name: string): boolean {
  return name.length <= MAX_LABEL && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name);
}

/** The Kubernetes name of each service, unique, with every rename reported: other services reach
 * it by this name, so a URL in their environment that uses the Compose name needs changing. */
export class ServiceNames {
  private readonly names = new Map<string, string>();

  constructor(services: string[], report: ConvertReport) {
    const taken = new Set<string>();
    for (const service of services) {
      const base = dnsLabel(service);
      let name = base;
      for (let n = 2; taken.has(name); n++) name = `${base.slice(0, MAX_LABEL - 4)}-${n}`;
      taken.add(name);
      this.names.set(service, name);
      if (name !== service)
        report.note(
          `services.${service}`,
          `named "${name}" in Kubernetes (object names are DNS-1123 labels); ` +
            `other services reach it as ${name}, so change "${service}" where they name it`,
        );
    }
  }

  of(service: string): string {
    const name = this.names.get(service);
    if (name === undefined) throw new HerdError(`no such service: ${service}`, 'NO_SUCH_SERVICE');
    return name;
  }
}

const BINARY = [
  ['Ei', 2 ** 60],
  ['Pi', 2 ** 50],
  ['Ti', 2 ** 40],
  ['Gi', 2 ** 30],
  ['Mi', 2 ** 20],
  ['Ki', 2 ** 10],
] as const;

/** Bytes as a Kubernetes quantity: the largest binary suffix that divides it (512Mi), else bytes. */
export function memoryQuantity(bytes: number): string {
  for (const [suffix, size] of BINARY)
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${suffix}`;
  return String(bytes);
}

/** CPUs as a Kubernetes quantity: whole cores as a number ("2"), else millicores ("500m"). */
export function cpuQuantity(cpus: number): string {
  const milli = Math.max(1, Math.round(cpus * 1000));
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Milliseconds as whole seconds, rounded up, at least `least` (Kubernetes' probe fields). */
export function seconds(ms: number, least = 1): number {
  return Math.max(least, Math.ceil(ms / 1000));
}

/** Milliseconds as a Go duration, as Compose and Swarm write them: 90000 → "1m30s", 500 → "500ms". */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 1000 !== 0) return `${ms}ms`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
}

/** Bytes in Compose's binary units: 536870912 → "512M", 1536 → "1536" bytes written as "1536b". */
export function composeSize(bytes: number): string {
  for (const [suffix, size] of [
    ['g', 2 ** 30],
    ['m', 2 ** 20],
    ['k', 2 ** 10],
  ] as const)
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${suffix.toUpperCase()}`;
  return `${bytes}b`;
}
