// What `herd up` was asked, and the project it runs: shared by the foreground, detached and
// "daemon already running" paths.
import { loadProject } from '../../compose/load.ts';
import { loadOptionsOf, type ProjectFlags } from '../../daemon/locate.ts';
import type { Project } from '../../compose/model.ts';
import { HerdError } from '../../util/errors.ts';
import { checkScaleLimit } from '../../compose/scale-limit.ts';

export interface UpOptions {
  scale: string[];
  color: boolean;
  build?: boolean;
  abortOnContainerExit?: boolean;
  detach?: boolean;
  wait?: boolean;
  waitTimeout?: string;
  /** Internal: this process is the detached daemon that `up -d` started. */
  foregroundDaemon?: boolean;
}

/** Loads the compose files the global flags name (what `POST /v1/apply` re-reads, too). */
export function loaderFor(g: ProjectFlags, services: string[]): () => Promise<Project> {
  return () =>
    loadProject({
      ...loadOptionsOf(g),
      enableServices: services.length > 0 ? services : undefined,
    });
}

/** The global flags again, as arguments, for the detached daemon. */
export function globalArgs(g: ProjectFlags): string[] {
  const out: string[] = [];
  for (const f of g.file ?? []) out.push('-f', f);
  if (g.projectName) out.push('-p', g.projectName);
  if (g.projectDirectory) out.push('--project-directory', g.projectDirectory);
  for (const e of g.envFile ?? []) out.push('--env-file', e);
  for (const p of g.profile ?? []) out.push('--profile', p);
  return out;
}

/** `web=3` → ['web', 3], with errors that say what is wrong and how to write it. */
export function parseScale(items: string[], project: Project): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const m = /^([^=]+)=(.*)$/.exec(item);
    if (!m)
      throw new HerdError(
        `--scale ${item}: expected SERVICE=N, e.g. --scale web=3`,
        'INVALID_ARGUMENT',
      );
    const [, service = '', n = ''] = m;
    if (!project.services[service]) {
      throw new HerdError(
        `--scale ${item}: no such service "${service}" (services: ${Object.keys(project.services).join(', ')})`,
        'NO_SUCH_SERVICE',
      );
    }
    if (!/^\d+$/.test(n)) {
      throw new HerdError(`--scale ${item}: "${n}" is not a whole number ≥ 0`, 'INVALID_ARGUMENT');
    }
    out[service] = Number(n);
    checkScaleLimit(project.services[service]!, out[service]!);
  }
  return out;
}

export function checkServices(project: Project, services: string[]): void {
  for (const s of services) {
    if (!project.services[s]) {
      throw new HerdError(
        `no such service: ${s} (services: ${Object.keys(project.services).join(', ')})`,
        'NO_SUCH_SERVICE',
      );
    }
  }
}

/** `--wait-timeout 30` (seconds, as Compose) → ms; undefined when not given. */
export function parseWaitTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) === 0)
    throw new HerdError(
      `--wait-timeout ${value}: expected a whole number of seconds ≥ 1`,
      'INVALID_ARGUMENT',
    );
  return Number(value) * 1000;
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
