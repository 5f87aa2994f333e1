// The dashboard's HTTP server: the page, its assets, its state and its actions, each behind the
// token (see access.ts). It asks the daemon through the same control API the CLI uses, so an
// action here is exactly what the matching `herd` verb does.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { addressUrl, type ListenAddress } from '../compose/listen-address.ts';
import { HerdError, isHerdError, type HerdErrorCode } from '../util/errors.ts';
import { HttpHosts } from '../util/http-host.ts';
import { Access } from './access.ts';
import { loadAssets, type Assets } from './assets.ts';
import { LiveFeed } from './live.ts';
import { PAGE } from './page.ts';
import type { DashboardAction, DashboardBackend } from './types.ts';

export interface DashboardOptions {
  listen: ListenAddress;
  token: string;
  backend: DashboardBackend;
  /** How often the stack is sampled (default 1 s). */
  sampleMs?: number;
  /** The daemon's servers for its own endpoints: on /metrics' address the page shares its server. */
  hosts?: HttpHosts;
}

const ACTIONS: DashboardAction[] = ['scale', 'restart', 'stop', 'start'];
const MAX_BODY = 64 * 1024;
/** The control API's refusals keep their meaning for the page (a bad count, an unknown service…). */
const STATUS_OF: Partial<Record<HerdErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  NO_SUCH_SERVICE: 404,
  CONFLICT: 409,
  ROLLOUT_FAILED: 409,
  NO_DAEMON: 503,
  DAEMON_UNRESPONSIVE: 503,
};
const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

export class DashboardServer {
  private unmount?: () => Promise<void>;
  private readonly live: LiveFeed;
  private readonly access: Access;
  private assets?: Assets;

  constructor(private readonly opts: DashboardOptions) {
    const origin = new URL(addressUrl(opts.listen));
    const anyHost = opts.listen.host === '0.0.0.0' || opts.listen.host === '::';
    this.access = new Access(opts.token, origin, anyHost);
    this.live = new LiveFeed(opts.backend, opts.sampleMs ?? 1000);
  }

  /** The address to open, with the token that lets a browser in. */
  get url(): string {
    return `${addressUrl(this.opts.listen)}/?token=${encodeURIComponent(this.opts.token)}`;
  }

  async start(): Promise<void> {
    this.assets = await loadAssets();
    const { host, port } = this.opts.listen;
    this.unmount = await (this.opts.hosts ?? new HttpHosts()).mount(this.opts.listen, {
      request: (req, res) => void this.handle(req, res),
      upgrade: (req, socket, head) => this.upgrade(req, socket, head),
      listenFailed: (err, sibling) =>
        new HerdError(
          `the dashboard cannot listen on ${host}:${port}: ${err.code ?? err.message}; ` +
            (sibling
              ? `herd's /metrics listens on ${sibling.host}:${sibling.port}: give both the same ` +
                'address to share one server, or different ports'
              : 'choose another `x-herd.dashboard.listen` or stop what uses that port'),
          err.code === 'EADDRINUSE' ? 'PORT_UNAVAILABLE' : 'FAILED',
        ),
    });
    this.live.start();
  }

  /** Leaves the address (its server closes unless /metrics shares it) and ends the live feed. */
  async close(): Promise<void> {
    this.live.close();
    const unmount = this.unmount;
    this.unmount = undefined;
    await unmount?.();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://dashboard');
      if (!this.access.hostAllowed(req.headers.host))
        return reply(res, 421, 'this dashboard answers only to its own address\n');
      if (req.method === 'GET' && url.pathname === '/' && url.searchParams.has('token'))
        return this.login(url, res);
      if (!this.access.authorized(req))
        return reply(
          res,
          401,
          'herd dashboard: this needs the access token; run `herd dashboard` for the URL\n',
        );
      await this.route(req, url, res);
    } catch (err) {
      const status = isHerdError(err) ? (STATUS_OF[err.code] ?? 500) : 500;
      if (!res.headersSent) sendJson(res, status, { error: (err as Error).message });
      else res.end();
    }
  }

  /** `/?token=…`: a right token becomes a cookie and the address loses it (history, referrers). */
  private login(url: URL, res: ServerResponse): void {
    if (!this.access.tokenMatches(url.searchParams.get('token')))
      return reply(res, 401, 'herd dashboard: wrong token; run `herd dashboard` for the URL\n');
    res.writeHead(302, {
      ...SECURITY_HEADERS,
      location: '/',
      'set-cookie': this.access.cookieHeader(),
    });
    res.end();
  }

  private async route(req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> {
    const path = url.pathname;
    if (req.method === 'GET' && path === '/') return this.page(res);
    if (req.method === 'GET' && (path === '/assets/app.js' || path === '/assets/app.css'))
      return this.asset(path.endsWith('.js') ? 'app.js' : 'app.css', res);
    if (req.method === 'GET' && path === '/api/state')
      return sendJson(res, 200, await this.live.snapshot());
    const action = path.startsWith('/api/') ? (path.slice(5) as DashboardAction) : undefined;
    if (req.method === 'POST' && action && ACTIONS.includes(action)) {
      if (!this.access.sameOrigin(req))
        return reply(res, 403, 'herd dashboard: actions are taken from the dashboard page only\n');
      const body = await readJsonBody(req);
      return sendJson(res, 200, await this.opts.backend.act(action, body));
    }
    reply(res, 404, `herd dashboard: nothing at ${req.method} ${path}\n`);
  }

  private page(res: ServerResponse): void {
    const connect = addressUrl(this.opts.listen).replace(/^http/, 'ws');
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `default-src 'self'; connect-src 'self' ${connect}; img-src 'self' data:; frame-ancestors 'none'`,
    });
    res.end(PAGE);
  }

  private asset(name: keyof Assets, res: ServerResponse): void {
    const type = name === 'app.js' ? 'text/javascript' : 'text/css';
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': `${type}; charset=utf-8` });
    res.end(this.assets?.[name]);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const ok =
      req.url === '/ws' &&
      this.access.hostAllowed(req.headers.host) &&
      this.access.authorized(req) &&
      this.access.sameOrigin(req);
    if (!ok) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.live.accept(req, socket, head);
  }
}

function reply(res: ServerResponse, status: number, text: string): void {
  // A refused request's body is read and dropped, so the client sees the answer, not a reset.
  res.req.resume();
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? ''))
    throw new HerdError(
      'actions take a JSON body (content-type: application/json)',
      'INVALID_ARGUMENT',
    );
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HerdError("the action's body is too large", 'INVALID_ARGUMENT');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new HerdError("the action's body is not JSON", 'INVALID_ARGUMENT');
  }
}
