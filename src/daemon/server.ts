// The daemon's control API: HTTP+JSON on a unix socket that only the owner can connect to. This
// module owns the socket and the dispatch; the routes live in api/, one module per concern.
import { chmodSync, existsSync, rmSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { HerdError } from '../util/errors.ts';
import type { DashboardResponse, PingResponse } from './api-types.ts';
import { ApiContext, type DaemonServerOptions } from './api/context.ts';
import { ApiError, readJson, send, sendError } from './api/http.ts';
import { ProjectRoutes } from './api/project.ts';
import { ExecRoutes } from './api/replica-exec.ts';
import { ServiceRoutes } from './api/services.ts';
import { StatusRoutes } from './api/status.ts';
import { StreamRoutes } from './api/streams.ts';
import { probeSocket } from './client.ts';
import { ensurePrivateDir } from './paths.ts';

type Handler = (req: IncomingMessage, url: URL, res: ServerResponse) => Promise<void> | void;

export class DaemonServer {
  private server?: Server;
  private readonly ctx: ApiContext;
  private readonly routes: Record<string, Handler>;
  /** Whether this server created the socket file: only then is it this server's to remove (a
   * second daemon that lost the race to bind must not delete the first one's socket). */
  private bound = false;

  constructor(private readonly opts: DaemonServerOptions) {
    this.ctx = new ApiContext(opts);
    this.routes = routeTable(this.ctx);
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
          'CONFLICT',
        );
      // A verb that found it refusing may be removing it at this very moment (DaemonClient).
      rmSync(paths.socket, { force: true });
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

  /** Ends open streams, stops listening and removes the socket file. */
  async close(): Promise<void> {
    for (const res of this.ctx.streams) res.end();
    this.ctx.streams.clear();
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
      this.admit(req, route);
      const handler = this.routes[route];
      if (!handler) throw new ApiError(404, `no such endpoint: ${route}`, 'INVALID_ARGUMENT');
      await handler(req, url, res);
    } catch (err) {
      if (!res.headersSent) sendError(res, err);
      else res.end();
    }
  }

  /** Refuses a client meant for another project, and changes once `down` began. */
  private admit(req: IncomingMessage, route: string): void {
    const { project } = this.ctx;
    const asked = req.headers['x-herd-project'];
    if (typeof asked === 'string' && asked !== project.name)
      throw new ApiError(
        409,
        `the daemon at ${this.opts.paths.socket} runs project ${project.name}, not ${asked} ` +
          '(HERD_STATE_DIR is shared by both; unset it or give each project its own)',
        'CONFLICT',
      );
    // Once `down` began, starting or changing anything would be undone a moment later.
    if (this.ctx.downing && route.startsWith('POST '))
      throw new ApiError(
        503,
        `the daemon of project ${project.name} is shutting down (herd down); ` +
          'run the command again once `herd down` has finished',
        'CONFLICT',
      );
  }
}

/** Every route the daemon answers, `METHOD /path` (each has its reply's shape in api-types.ts,
 * which the client checks). */
export function routeNames(): string[] {
  // The handlers only read the context when they run.
  return Object.keys(routeTable({} as ApiContext));
}

/** `METHOD /path` → what answers it. */
function routeTable(ctx: ApiContext): Record<string, Handler> {
  const status = new StatusRoutes(ctx);
  const services = new ServiceRoutes(ctx);
  const streams = new StreamRoutes(ctx);
  const project = new ProjectRoutes(ctx);
  const exec = new ExecRoutes(ctx);
  const lifecycle =
    (verb: 'stop' | 'start' | 'restart' | 'kill'): Handler =>
    async (req, _url, res) =>
      send(res, 200, await services.lifecycle(verb, await readJson(req)));
  return {
    'GET /v1/ping': (_req, _url, res) =>
      send(res, 200, { project: ctx.project.name, pid: process.pid } satisfies PingResponse),
    'GET /v1/ps': async (_req, _url, res) => send(res, 200, await status.ps()),
    'GET /v1/top': async (_req, _url, res) => send(res, 200, await status.top()),
    'GET /v1/port': (_req, url, res) => send(res, 200, status.port(url)),
    'GET /v1/exec-target': (_req, url, res) => send(res, 200, exec.target(url)),
    'GET /v1/dashboard': (_req, _url, res) => send(res, 200, dashboardAnswer(ctx)),
    'POST /v1/scale': async (req, _url, res) => send(res, 200, services.scale(await readJson(req))),
    'POST /v1/stop': lifecycle('stop'),
    'POST /v1/start': lifecycle('start'),
    'POST /v1/restart': lifecycle('restart'),
    'POST /v1/rollback': async (req, _url, res) =>
      send(res, 200, await services.rollback(await readJson(req))),
    'POST /v1/kill': lifecycle('kill'),
    'POST /v1/pause': async (req, _url, res) =>
      send(res, 200, await services.pause(true, await readJson(req))),
    'POST /v1/unpause': async (req, _url, res) =>
      send(res, 200, await services.pause(false, await readJson(req))),
    'POST /v1/rm': async (req, _url, res) => send(res, 200, await services.rm(await readJson(req))),
    'GET /v1/logs': (_req, url, res) => streams.logs(url, res),
    'GET /v1/events': (_req, _url, res) => streams.events(res),
    'POST /v1/down': async (req, _url, res) => project.down(await readJson(req), res),
    'POST /v1/apply': async (req, _url, res) =>
      send(res, 200, await project.apply(await readJson(req))),
  };
}

/** `herd dashboard`: where the page is, with its token (the socket is the owner's only). */
function dashboardAnswer(ctx: ApiContext): DashboardResponse {
  const url = ctx.opts.dashboardUrl?.();
  if (!url)
    throw new ApiError(
      404,
      `project ${ctx.project.name} has no dashboard; add ` +
        '`x-herd: { dashboard: { listen: "127.0.0.1:9465" } }` to the compose file and run ' +
        '`herd up -d` again',
      'NOT_RUNNABLE',
    );
  return { url };
}
