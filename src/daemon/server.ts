// The daemon's control API: HTTP+JSON on a unix socket that only the owner can connect to.
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { constants as osConstants } from 'node:os';
import type { Project } from '../compose/model.ts';
import type { EngineEvent } from '../engine/events.ts';
import type { StopOptions } from '../engine/engine.ts';
import { isManualKill } from '../engine/supervisor.ts';
import type { LogStore } from '../logs/store.ts';
import { HerdError } from '../util/errors.ts';
import type {
  PingResponse,
  PortResponse,
  PsReplica,
  PsResponse,
  ReplicaTraffic,
  ScaleResponse,
  ServicesResponse,
  TopReplica,
  TopResponse,
} from './api-types.ts';
import { probeSocket } from './client.ts';
import type { EngineControl } from './control.ts';
import { readStat } from './identity.ts';
import { ensurePrivateDir, type DaemonPaths } from './paths.ts';
import { lookupPort } from './port-lookup.ts';
import { groupProcesses, UsageSampler } from './proc-stats.ts';
import type { StateRecorder } from './recorder.ts';
import { MAX_TIMER_MS } from '../util/timers.ts';

export interface DaemonServerOptions {
  project: Project;
  engine: EngineControl;
  paths: DaemonPaths;
  logs: LogStore;
  recorder?: StateRecorder;
  /** Re-reads the compose files for `POST /v1/apply` when the client sends no project. */
  reload?: () => Promise<Project>;
  /** Readies the balancer and runtimes for a re-applied file before the engine applies it (new
   * ports bound, images ready); what it returns runs after (ports the file dropped close). */
  prepareApply?: ApplyPreparer;
  /** `POST /v1/down`, after the engine stopped and before the answer: removes the runtimes'
   * containers and network, so the client returns only once they are gone. */
  removeResources?: (opts: { volumes: boolean }) => Promise<void>;
  /** Called once `POST /v1/down` has stopped the engine and answered: the daemon should exit. */
  onDown?: (opts: { volumes: boolean }) => void;
  /** Poll interval of `logs --follow` (tests use a short one). */
  logPollMs?: number;
  /** Per-replica counters of the balancer, keyed by replica name, for `ps`. */
  traffic?: () => Map<string, ReplicaTraffic>;
}

export type ApplyPreparer = (next: Project) => Promise<() => Promise<void>>;

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY = 1024 * 1024;

export class DaemonServer {
  private server?: Server;
  private project: Project;
  private readonly streams = new Set<ServerResponse>();
  private readonly sampler = new UsageSampler();
  /** `herd down` is under way. */
  private downing = false;
  /** Its own sampler, so `herd top` refreshing every N seconds measures CPU over those N seconds
   * whatever `ps` calls come in between. */
  private readonly topSampler = new UsageSampler();

  constructor(private readonly opts: DaemonServerOptions) {
    this.project = opts.project;
  }

  get socketPath(): string {
    return this.opts.paths.socket;
  }

  /** Binds the socket. Refuses when another daemon answers on it; removes a dead one's socket. */
  async listen(): Promise<void> {
    const { paths } = this.opts;
    ensurePrivateDir(paths.dir);
    if (existsSync(paths.socket)) {
      const other = await probeSocket(paths.socket);
      if (other)
        throw new HerdError(
          `a herd daemon for project ${other.project} is already running (pid ${other.pid}); ` +
            'use `herd down` to stop it first',
        );
      unlinkSync(paths.socket);
    }
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The socket is created by bind(); a 0177 umask makes it 0600 from the start, and the
      // chmod below covers platforms that ignore umask for sockets.
      const old = process.umask(0o177);
      try {
        server.listen(paths.socket, () => resolve());
      } finally {
        process.umask(old);
      }
    });
    chmodSync(paths.socket, 0o600);
    this.bound = true;
  }

  /** Whether this server created the socket file: only then is it this server's to remove (a
   * second daemon that lost the race to bind must not delete the first one's socket). */
  private bound = false;

  /** Ends open streams, stops listening and removes the socket file. */
  async close(): Promise<void> {
    for (const res of this.streams) res.end();
    this.streams.clear();
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
    if (!this.bound) return;
    this.bound = false;
    try {
      unlinkSync(this.opts.paths.socket);
    } catch {
      // already gone
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://herd');
      const route = `${req.method} ${url.pathname}`;
      const asked = req.headers['x-herd-project'];
      if (typeof asked === 'string' && asked !== this.project.name)
        throw new ApiError(
          409,
          `the daemon at ${this.opts.paths.socket} runs project ${this.project.name}, not ${asked} ` +
            '(HERD_STATE_DIR is shared by both; unset it or give each project its own)',
        );
      // Once `down` began, starting or changing anything would be undone a moment later.
      if (this.downing && route.startsWith('POST '))
        throw new ApiError(
          503,
          `the daemon of project ${this.project.name} is shutting down (herd down); ` +
            'run the command again once `herd down` has finished',
        );
      switch (route) {
        case 'GET /v1/ping':
          return send(res, 200, {
            project: this.project.name,
            pid: process.pid,
          } satisfies PingResponse);
        case 'GET /v1/ps':
          return send(res, 200, await this.ps());
        case 'POST /v1/scale':
          return send(res, 200, this.scale(await readJson(req)));
        case 'POST /v1/stop':
        case 'POST /v1/start':
        case 'POST /v1/restart':
        case 'POST /v1/kill':
          return send(res, 200, await this.lifecycle(url.pathname.slice(4), await readJson(req)));
        case 'GET /v1/logs':
          return this.logs(url, res);
        case 'GET /v1/events':
          return this.events(res);
        case 'GET /v1/port':
          return send(res, 200, this.port(url));
        case 'GET /v1/top':
          return send(res, 200, await this.top());
        case 'POST /v1/down':
          return await this.down(await readJson(req), res);
        case 'POST /v1/apply':
          return send(res, 200, await this.apply(await readJson(req)));
        default:
          throw new ApiError(404, `no such endpoint: ${route}`);
      }
    } catch (err) {
      const status = err instanceof ApiError ? err.status : err instanceof HerdError ? 400 : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent) send(res, status, { error: message });
      else res.end();
    }
  }

  private services(requested: unknown): string[] | undefined {
    if (requested === undefined || requested === null) return undefined;
    if (!Array.isArray(requested) || requested.some((s) => typeof s !== 'string'))
      throw new ApiError(400, '"services" must be a list of service names');
    if (requested.length === 0) return undefined;
    const known = Object.keys(this.project.services);
    const unknown = requested.filter((s) => !known.includes(s));
    if (unknown.length)
      throw new ApiError(
        404,
        `no such service: ${unknown.join(', ')} (project ${this.project.name} has: ${known.join(', ')})`,
      );
    return requested as string[];
  }

  private async ps(): Promise<PsResponse> {
    const replicas = this.opts.engine.replicas();
    const pgids = new Map<string, number>();
    for (const r of replicas) {
      if (r.pid === undefined) continue;
      const pgid = readStat(r.pid)?.pgid;
      if (pgid !== undefined) pgids.set(r.name, pgid);
    }
    const usage = await this.sampler.sample([...new Set(pgids.values())]);
    const stopped = new Set(this.opts.recorder?.current.stopped ?? []);
    const scale = this.opts.recorder?.current.scale ?? {};
    const traffic = this.opts.traffic?.() ?? new Map<string, ReplicaTraffic>();
    return {
      project: this.project.name,
      now: Date.now(),
      services: Object.values(this.project.services).map((s) => ({
        name: s.name,
        ports: s.ports,
        expose: s.expose,
        scale: scale[s.name] ?? s.scale,
        stopped: stopped.has(s.name),
      })),
      replicas: replicas.map((r): PsReplica => {
        const u = pgids.has(r.name) ? usage.get(pgids.get(r.name)!) : undefined;
        const t = traffic.get(r.name);
        return {
          ...r,
          ...(u ? { cpuPercent: u.cpuPercent, memBytes: u.rssBytes } : {}),
          ...(t ? { traffic: t } : {}),
        };
      }),
    };
  }

  private scale(body: unknown): ScaleResponse {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new ApiError(400, 'expected {"<service>": <replicas>, …}');
    const entries = Object.entries(body as Record<string, unknown>);
    if (entries.length === 0) throw new ApiError(400, 'no service to scale');
    this.services(entries.map(([s]) => s));
    for (const [svc, n] of entries)
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
        throw new ApiError(
          400,
          `scale of ${svc} must be a whole number ≥ 0, got ${JSON.stringify(n)}`,
        );
    const current = this.opts.recorder?.current.scale ?? {};
    const scaled = entries.map(([service, n]) => {
      const from = current[service] ?? this.project.services[service]!.scale;
      this.opts.engine.setScale(service, n as number);
      this.opts.recorder?.setScale(service, n as number);
      return { service, from, to: n as number };
    });
    return { scaled };
  }

  private async lifecycle(verb: string, body: unknown): Promise<ServicesResponse> {
    const b = (body ?? {}) as { services?: unknown; signal?: unknown; timeout?: unknown };
    const services = this.services(b.services);
    const stop = stopOptions(b.timeout);
    const names = () =>
      this.opts.engine
        .replicas()
        .filter((r) => !services || services.includes(r.service))
        .map((r) => r.name);
    const all = services ?? Object.keys(this.project.services);
    const before = names();
    const engine = this.opts.engine;
    switch (verb) {
      case 'stop':
        await engine.stopServices(services, stop);
        this.opts.recorder?.setStopped(all, true);
        break;
      case 'start':
        this.opts.recorder?.setStopped(all, false);
        await engine.startServices(services);
        break;
      case 'restart':
        this.opts.recorder?.setStopped(all, false);
        await engine.restartServices(services, stop);
        break;
      case 'kill': {
        const signal = b.signal ?? 'SIGKILL';
        const name = typeof signal === 'string' ? normalizeSignal(signal) : undefined;
        if (!name) throw new ApiError(400, `unknown signal ${JSON.stringify(signal)}`);
        engine.killServices(name, services);
        // As `docker kill`: a kill that the restart policy does not undo is a manual stop, and a
        // later daemon must not bring the service back either.
        const killed = all.filter((s) => {
          const service = this.project.services[s];
          return service !== undefined && isManualKill(name, service);
        });
        if (killed.length > 0) this.opts.recorder?.setStopped(killed, true);
        break;
      }
    }
    return { services: all, replicas: verb === 'start' || verb === 'restart' ? names() : before };
  }

  private logs(url: URL, res: ServerResponse): void {
    const p = url.searchParams;
    const services = this.services(p.get('services') ? p.get('services')!.split(',') : undefined);
    const tail = p.get('tail');
    const since = p.get('since');
    const query = {
      services,
      tail: tail === null || tail === 'all' ? undefined : parseNonNegative(tail, 'tail'),
      since: since === null ? undefined : parseNonNegative(since, 'since'),
    };
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    if (p.get('follow') !== '1' && p.get('follow') !== 'true') {
      for (const e of this.opts.logs.read(query)) res.write(JSON.stringify(e) + '\n');
      res.end();
      return;
    }
    this.streams.add(res);
    const follower = this.opts.logs.follow(
      query,
      (e) => res.write(JSON.stringify(e) + '\n'),
      this.opts.logPollMs,
    );
    res.on('close', () => {
      follower.close();
      this.streams.delete(res);
    });
  }

  private events(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.flushHeaders();
    this.streams.add(res);
    const listener = (e: EngineEvent) => {
      if (e.type !== 'output') res.write(JSON.stringify(e) + '\n');
    };
    this.opts.engine.on('event', listener);
    res.on('close', () => {
      this.opts.engine.off('event', listener);
      this.streams.delete(res);
    });
  }

  private port(url: URL): PortResponse {
    const p = url.searchParams;
    const [service] = this.services([p.get('service') ?? '']) ?? [];
    const port = parseNonNegative(p.get('port'), 'port');
    const index = p.get('index') ? parseNonNegative(p.get('index'), 'index') : 1;
    const protocol = p.get('protocol') === 'udp' ? 'udp' : 'tcp';
    const replicas = this.opts.engine.replicas().filter((r) => r.service === service);
    const address = lookupPort(this.project.services[service!]!, replicas, port, protocol, index);
    if (!address)
      throw new ApiError(404, `no host port for ${service} ${port}/${protocol} (replica ${index})`);
    return { address };
  }

  /** Each live replica's processes, with the CPU % and memory of its whole process group (for a
   * Docker container, the group of its init process as this host sees it). */
  private async top(): Promise<TopResponse> {
    const live = this.opts.engine
      .replicas()
      .filter((r) => r.pid !== undefined && r.state !== 'exited' && r.state !== 'removed');
    const pgids = new Map<string, number>();
    for (const r of live) {
      const pgid = readStat(r.pid!)?.pgid;
      if (pgid !== undefined) pgids.set(r.name, pgid);
    }
    const usage = await this.topSampler.sample([...new Set(pgids.values())]);
    return {
      replicas: live.map((r): TopReplica => {
        const pgid = pgids.get(r.name);
        const u = pgid === undefined ? undefined : usage.get(pgid);
        return {
          name: r.name,
          service: r.service,
          pid: r.pid,
          ...(u ? { cpuPercent: u.cpuPercent, memBytes: u.rssBytes } : {}),
          processes: pgid === undefined ? [] : groupProcesses(pgid),
        };
      }),
    };
  }

  private async down(body: unknown, res: ServerResponse): Promise<void> {
    const b = (body ?? {}) as { volumes?: unknown; timeout?: unknown };
    const volumes = Boolean(b.volumes);
    const stop = stopOptions(b.timeout);
    this.downing = true; // only once the request is valid: a refused down changes nothing
    const names = this.opts.engine.replicas().map((r) => r.name);
    await this.opts.engine.shutdown(stop);
    // Containers and network go before the answer, so `herd down` returns once they are gone.
    const removal = (this.opts.removeResources?.({ volumes }) ?? Promise.resolve()).then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
    // The engine is down: whatever happens next, the daemon exits once the removal ended and
    // the answer went out (or the client gave up waiting).
    let told = false;
    const exit = () => {
      if (told) return;
      told = true;
      void removal.then(() => this.opts.onDown?.({ volumes }));
    };
    res.on('finish', exit);
    res.on('close', exit);
    if (res.destroyed) exit();
    const failed = await removal;
    if (failed)
      throw new ApiError(
        500,
        `stopped every replica but could not remove the project's containers or network: ` +
          `${failed.message}; run \`herd down\` again`,
      );
    send(res, 200, { services: Object.keys(this.project.services), replicas: names });
  }

  /** The client sends the project it loaded (with its own flags and environment, as Compose's
   * CLI does); without one, the daemon re-reads the files it was started with. */
  private async apply(body: unknown): Promise<ServicesResponse> {
    const sent = (body as { project?: unknown } | undefined)?.project;
    let next: Project;
    if (sent !== undefined) {
      if (!isProjectShape(sent)) throw new ApiError(400, 'apply: "project" is not a herd project');
      next = sent;
    } else if (this.opts.reload) {
      next = await this.opts.reload();
    } else {
      throw new ApiError(501, 'this daemon cannot re-read its compose file');
    }
    if (next.name !== this.project.name)
      throw new ApiError(
        409,
        `this daemon runs project ${this.project.name}, not ${next.name}; ` +
          'run `herd down` then `herd up` to switch projects',
      );
    const finish = (await this.opts.prepareApply?.(next)) ?? (async () => undefined);
    try {
      await this.opts.engine.apply(next);
    } finally {
      await finish();
    }
    this.project = next;
    return {
      services: Object.keys(next.services),
      replicas: this.opts.engine.replicas().map((r) => r.name),
    };
  }
}

function isProjectShape(p: unknown): p is Project {
  const o = p as Partial<Project> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.name === 'string' &&
    typeof o.workingDir === 'string' &&
    typeof o.services === 'object' &&
    o.services !== null &&
    Array.isArray(o.warnings)
  );
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(data),
  });
  res.end(data);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ApiError(400, 'request body is not valid JSON');
  }
}

/** `timeout` in a stop/restart/down body: seconds, as `-t` gives them (0 kills at once). */
function stopOptions(timeout: unknown): StopOptions {
  if (timeout === undefined || timeout === null) return {};
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 0)
    throw new ApiError(
      400,
      `timeout must be a whole number of seconds ≥ 0, got ${JSON.stringify(timeout)}`,
    );
  // Node timers cannot wait longer (see util/timers.ts): a larger value would not mean "later".
  const max = Math.floor(MAX_TIMER_MS / 1000);
  if (timeout > max)
    throw new ApiError(
      400,
      `timeout must be at most ${max} seconds (about 24 days), got ${timeout}`,
    );
  return { timeoutMs: timeout * 1000 };
}

function parseNonNegative(value: string | null, what: string): number {
  const n = Number(value);
  if (value === null || value === '' || !Number.isInteger(n) || n < 0)
    throw new ApiError(400, `${what} must be a whole number ≥ 0, got ${JSON.stringify(value)}`);
  return n;
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
