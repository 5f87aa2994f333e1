// `GET /v1/exec-target?service=web&index=1`: what `herd exec` needs to run a command the way a
// replica runs — for a process replica its environment, working dir, user and cgroups, read from
// the live process itself (so they are exactly the replica's, whichever gate started it); for a
// container, which container it is (the client asks the Docker engine to exec).
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { runtimeKind } from '../../compose/runtime-kind.ts';
import type { ExecTarget } from '../api-types.ts';
import type { ApiContext } from './context.ts';
import { ApiError, parseNonNegative } from './http.ts';

const CGROUP_ROOT = '/sys/fs/cgroup';

export class ExecRoutes {
  constructor(private readonly ctx: ApiContext) {}

  target(url: URL): ExecTarget {
    const p = url.searchParams;
    const [service] = this.ctx.services([p.get('service') ?? '']) ?? [];
    const index = p.get('index') ? parseNonNegative(p.get('index'), 'index') : 1;
    const replica = this.ctx.engine
      .replicas()
      .find((r) => r.service === service && r.index === index && r.state === 'running');
    if (!replica?.pid)
      throw new ApiError(
        409,
        `service ${service} has no running replica ${index}` +
          ' (see `herd ps`; exec runs in a running replica)',
        'CONFLICT',
      );
    const runtime = runtimeKind(this.ctx.project.services[service!]!);
    const base = { runtime, name: replica.name, pid: replica.pid };
    if (runtime === 'docker') return { ...base, env: {}, cwd: '', uid: 0, gid: 0, cgroupProcs: [] };
    try {
      return { ...base, ...processContext(replica.pid) };
    } catch (err) {
      throw new ApiError(
        409,
        `cannot read replica ${replica.name} (pid ${replica.pid}): ${(err as Error).message}`,
        'CONFLICT',
      );
    }
  }
}

function processContext(pid: number): Omit<ExecTarget, 'runtime' | 'name' | 'pid'> {
  const env: Record<string, string> = {};
  for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const id = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return {
    env,
    cwd: readlinkSync(`/proc/${pid}/cwd`),
    uid: id('Uid'),
    gid: id('Gid'),
    cgroupProcs: cgroupProcsOf(pid),
  };
}

/** The cgroup.procs files of the herd cgroups `pid` is in (v2: `0::/path`; v1: one line per
 * hierarchy, `N:controllers:/path`), so the command joins them too and is held to its limits. */
function cgroupProcsOf(pid: number): string[] {
  const files = new Set<string>();
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const m = /^(\d+):([^:]*):(\/.*)$/.exec(line);
    if (!m || !m[3]!.includes('/herd/')) continue;
    const mount = m[1] === '0' ? CGROUP_ROOT : join(CGROUP_ROOT, m[2]!.replace(/^name=/, ''));
    const procs = join(mount, m[3]!, 'cgroup.procs');
    if (existsSync(procs)) files.add(procs);
  }
  return [...files];
}
