// The routes that change what runs: `scale`, and `stop`/`start`/`restart`/`kill` of services,
// each recorded so a later daemon brings the stack back the same way.
import { constants as osConstants } from 'node:os';
import type { StopOptions } from '../../engine/engine.ts';
import { isManualKill } from '../../engine/engine.ts';
import { MAX_TIMER_MS } from '../../util/timers.ts';
import type { ScaleResponse, ServicesResponse } from '../api-types.ts';
import type { ApiContext } from './context.ts';
import { ApiError } from './http.ts';

export type LifecycleVerb = 'stop' | 'start' | 'restart' | 'kill';

export class ServiceRoutes {
  constructor(private readonly ctx: ApiContext) {}

  scale(body: unknown): ScaleResponse {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new ApiError(400, 'expected {"<service>": <replicas>, …}', 'INVALID_ARGUMENT');
    const entries = Object.entries(body as Record<string, unknown>);
    if (entries.length === 0) throw new ApiError(400, 'no service to scale', 'INVALID_ARGUMENT');
    this.ctx.services(entries.map(([s]) => s));
    for (const [svc, n] of entries)
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
        throw new ApiError(
          400,
          `scale of ${svc} must be a whole number ≥ 0, got ${JSON.stringify(n)}`,
          'INVALID_ARGUMENT',
        );
    const { recorder } = this.ctx.opts;
    const current = recorder?.current.scale ?? {};
    const autoscaled = this.ctx.engine.autoscaling?.() ?? [];
    const scaled = entries.map(([service, n]) => {
      const auto = autoscaled.find((a) => a.service === service);
      const from = auto?.desired ?? current[service] ?? this.ctx.project.services[service]!.scale;
      this.ctx.engine.setScale(service, n as number);
      // An autoscaled service's count is the autoscaler's to keep, not a record to restore.
      if (!auto) recorder?.setScale(service, n as number);
      return { service, from, to: n as number, ...(auto && { autoscale: bounds(auto) }) };
    });
    return { scaled };
  }

  async lifecycle(verb: LifecycleVerb, body: unknown): Promise<ServicesResponse> {
    const b = (body ?? {}) as { services?: unknown; signal?: unknown; timeout?: unknown };
    const services = this.ctx.services(b.services);
    const stop = stopOptions(b.timeout);
    const names = () =>
      this.ctx.engine
        .replicas()
        .filter((r) => !services || services.includes(r.service))
        .map((r) => r.name);
    const all = services ?? Object.keys(this.ctx.project.services);
    const before = names();
    const { engine } = this.ctx;
    const { recorder } = this.ctx.opts;
    switch (verb) {
      case 'stop':
        await engine.stopServices(services, stop);
        recorder?.setStopped(all, true);
        break;
      case 'start':
        recorder?.setStopped(all, false);
        await engine.startServices(services);
        break;
      case 'restart':
        recorder?.setStopped(all, false);
        await engine.restartServices(services, stop);
        break;
      case 'kill':
        this.kill(b.signal ?? 'SIGKILL', services, all);
        break;
    }
    return { services: all, replicas: verb === 'start' || verb === 'restart' ? names() : before };
  }

  /** `herd pause`/`unpause`: the replicas it froze or let run again. */
  async pause(paused: boolean, body: unknown): Promise<ServicesResponse> {
    const b = (body ?? {}) as { services?: unknown };
    const services = this.ctx.services(b.services);
    const { engine } = this.ctx;
    if (!engine.pauseServices) throw new ApiError(501, 'this daemon cannot pause', 'FAILED');
    const replicas = await engine.pauseServices(paused, services);
    if (replicas.length === 0)
      throw new ApiError(
        409,
        `no ${paused ? 'running' : 'paused'} replica to ${paused ? 'pause' : 'unpause'}` +
          (services ? ` in ${services.join(', ')}` : ''),
        'CONFLICT',
      );
    return { services: services ?? Object.keys(this.ctx.project.services), replicas };
  }

  /** `herd rm [-s]`: forgets exited replicas; `stop` stops the services first. A service named
   * with a replica running is refused without `stop`; unnamed ones are skipped. */
  async rm(body: unknown): Promise<ServicesResponse> {
    const b = (body ?? {}) as {
      services?: unknown;
      stop?: unknown;
      timeout?: unknown;
      volumes?: unknown;
    };
    const services = this.ctx.services(b.services);
    const { engine } = this.ctx;
    if (!engine.removeExited) throw new ApiError(501, 'this daemon cannot remove', 'FAILED');
    const all = services ?? Object.keys(this.ctx.project.services);
    if (b.stop === true) {
      await engine.stopServices(services, stopOptions(b.timeout));
      this.ctx.opts.recorder?.setStopped(all, true);
    }
    const names = () => engine.replicas().filter((r) => services?.includes(r.service) ?? true);
    if (services && b.stop !== true) {
      const live = names().filter((r) => r.state !== 'exited' && r.state !== 'removed');
      if (live.length > 0)
        throw new ApiError(
          409,
          `cannot remove running replicas: ${live.map((r) => r.name).join(', ')} ` +
            '(stop them first, or use `herd rm -s`)',
          'CONFLICT',
        );
    }
    const gone = await engine.removeExited(services, { volumes: b.volumes === true });
    // Nothing may start them again on a daemon restart either (as after `herd stop`).
    if (gone.services.length > 0) this.ctx.opts.recorder?.setStopped(gone.services, true);
    return { services: gone.services, replicas: gone.removed };
  }

  /** `herd rollback SERVICE`: its previous definition, as its rollback_config says. */
  async rollback(body: unknown): Promise<ServicesResponse> {
    const b = (body ?? {}) as { service?: unknown };
    if (typeof b.service !== 'string' || b.service === '')
      throw new ApiError(400, 'rollback: "service" must be a service name', 'INVALID_ARGUMENT');
    const [service] = this.ctx.services([b.service])!;
    const { engine } = this.ctx;
    if (!engine.rollbackService)
      throw new ApiError(501, 'this daemon cannot roll services back', 'FAILED');
    try {
      await engine.rollbackService(service!);
    } finally {
      this.ctx.project = engine.project ?? this.ctx.project;
    }
    const replicas = engine
      .replicas()
      .filter((r) => r.service === service && r.state !== 'removed');
    return { services: [service!], replicas: replicas.map((r) => r.name) };
  }

  private kill(signal: unknown, services: string[] | undefined, all: string[]): void {
    const name = typeof signal === 'string' ? normalizeSignal(signal) : undefined;
    if (!name)
      throw new ApiError(400, `unknown signal ${JSON.stringify(signal)}`, 'INVALID_ARGUMENT');
    this.ctx.engine.killServices(name, services);
    // As `docker kill`: a kill that the restart policy does not undo is a manual stop, and a
    // later daemon must not bring the service back either.
    const killed = all.filter((s) => {
      const service = this.ctx.project.services[s];
      return service !== undefined && isManualKill(name, service);
    });
    if (killed.length > 0) this.ctx.opts.recorder?.setStopped(killed, true);
  }
}

function bounds(a: { min: number; max: number }): { min: number; max: number } {
  return { min: a.min, max: a.max };
}

/** `timeout` in a stop/restart/down body: seconds, as `-t` gives them (0 kills at once). */
export function stopOptions(timeout: unknown): StopOptions {
  if (timeout === undefined || timeout === null) return {};
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 0)
    throw new ApiError(
      400,
      `timeout must be a whole number of seconds ≥ 0, got ${JSON.stringify(timeout)}`,
      'INVALID_ARGUMENT',
    );
  // Node timers cannot wait longer (see util/timers.ts): a larger value would not mean "later".
  const max = Math.floor(MAX_TIMER_MS / 1000);
  if (timeout > max)
    throw new ApiError(
      400,
      `timeout must be at most ${max} seconds (about 24 days), got ${timeout}`,
      'INVALID_ARGUMENT',
    );
  return { timeoutMs: timeout * 1000 };
}

/** 'KILL', 'sigkill', 'SIGKILL' or '9' → 'SIGKILL'; undefined when unknown. */
export function normalizeSignal(s: string): NodeJS.Signals | undefined {
  const signals = osConstants.signals as Record<string, number>;
  if (/^\d+$/.test(s)) {
    const found = Object.entries(signals).find(([, n]) => n === Number(s));
    return found?.[0] as NodeJS.Signals | undefined;
  }
  const up = s.toUpperCase();
  const name = up.startsWith('SIG') ? up : `SIG${up}`;
  return name in signals ? (name as NodeJS.Signals) : undefined;
}
