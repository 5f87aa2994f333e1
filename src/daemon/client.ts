// Talking to a project's daemon over its unix socket, with errors that say what to do.
import { existsSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';
import { HerdError, type HerdErrorCode } from '../util/errors.ts';
import { replyShapes, type ErrorResponse, type PingResponse } from './api-types.ts';
import { checkOwnFile, checkStateDir } from './dir-trust.ts';
import { awaitRevival } from './revive.ts';

const GET_TIMEOUT_MS = 15_000;

export interface ClientOptions {
  /** Set for verbs: when no daemon answers but a stack is recorded, wait this long for it to be
   * revived (revive.ts). Unset: fail at once. */
  reviveWaitMs?: number;
}

export class DaemonClient {
  /** Waited for a revival already: a client waits at most once. */
  private waited = false;

  constructor(
    readonly socketPath: string,
    /** Project name, for messages. */
    readonly project: string,
    private readonly opts: ClientOptions = {},
  ) {}

  /** Reads (ps, port, top) answer at once; one that does not comes from a hung daemon. */
  async get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path, undefined, GET_TIMEOUT_MS);
  }

  async post<T>(path: string, body?: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  /** Calls `onLine` with each NDJSON object until the daemon ends the stream or `signal` aborts. */
  async stream<T>(path: string, onLine: (value: T) => void, signal?: AbortSignal): Promise<void> {
    const res = await this.open('GET', path, undefined, signal);
    if (res.statusCode !== 200) throw await this.errorFrom(res);
    let partial = '';
    try {
      for await (const chunk of res) {
        const lines = (partial + (chunk as Buffer).toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) if (l.trim()) onLine(this.understood<T>('GET', path, l));
      }
    } catch (err) {
      if (signal?.aborted) return;
      if (err instanceof BadReply) throw err;
      throw new HerdError(
        `the herd daemon for project ${this.project} closed the stream: ${(err as Error).message}`,
        'NO_DAEMON',
      );
    }
  }

  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs?: number,
  ): Promise<T> {
    const res = await this.open(method, path, body, timeoutMs);
    const text = await readAll(res);
    if (res.statusCode !== 200) throw this.errorText(res.statusCode ?? 0, text);
    return this.understood<T>(method, path, text);
  }

  /** The reply parsed and checked against its route's schema (api-types.ts). */
  private understood<T>(method: string, path: string, text: string): T {
    const route = `${method} ${path.split('?')[0]}`;
    let value: unknown;
    let problem: string | undefined;
    try {
      value = JSON.parse(text);
      problem = replyShapes[route]?.(value, 'the reply');
    } catch {
      problem = 'the reply is not JSON';
    }
    if (problem === undefined) return value as T;
    throw new BadReply(this.socketPath, route, problem);
  }

  /** The request's response; when nothing listens but a stack is recorded (its daemon is being
   * revived), waits for the daemon once (revive.ts) and sends the request again. */
  private async open(
    method: string,
    path: string,
    body?: unknown,
    limit?: AbortSignal | number,
  ): Promise<IncomingMessage> {
    try {
      return await this.request(method, path, body, limit);
    } catch (err) {
      if (err instanceof HerdError) throw err;
      const e = err as NodeJS.ErrnoException;
      const gone = e.code === 'ENOENT' || e.code === 'ECONNREFUSED';
      if (!gone || this.opts.reviveWaitMs === undefined || this.waited) throw this.connectError(e);
      this.waited = true;
      const back = await awaitRevival({
        dir: dirname(this.socketPath),
        socket: this.socketPath,
        project: this.project,
        waitMs: this.opts.reviveWaitMs,
      });
      if (!back) throw this.connectError(e);
      return this.open(method, path, body, limit);
    }
  }

  /** One request; `limit` is the caller's signal, or a timeout in ms for a hung daemon. */
  private request(
    method: string,
    path: string,
    body?: unknown,
    limit?: AbortSignal | number,
  ): Promise<IncomingMessage> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    verifySocket(this.socketPath);
    const signal = typeof limit === 'number' ? AbortSignal.timeout(limit) : limit;
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          socketPath: this.socketPath,
          // A fresh connection per request: a pooled keep-alive one may lead to a daemon killed
          // since (EPIPE / ECONNRESET instead of a clear "no daemon running").
          agent: false,
          method,
          path,
          signal,
          headers: {
            // Lets the daemon refuse a client meant for another project sharing HERD_STATE_DIR.
            'x-herd-project': this.project,
            ...(data
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }
              : {}),
          },
        },
        resolve,
      );
      req.on('error', (err) => {
        if (typeof limit === 'number' && signal?.aborted)
          reject(new DaemonUnresponsive(this.socketPath, limit));
        else reject(err);
      });
      req.end(data);
    });
  }

  private connectError(err: NodeJS.ErrnoException): Error {
    const start = 'start it with `herd up -d`';
    switch (err.code) {
      case 'ENOENT':
        return new HerdError(
          `no herd daemon running for project ${this.project}; ${start}`,
          'NO_DAEMON',
        );
      case 'ECONNREFUSED':
        // The socket file outlived its daemon (killed). It is left alone: a daemon starting at
        // this moment may just have bound a fresh one there, and the next daemon replaces a
        // refusing socket under its own lock (server.ts).
        return new HerdError(
          `no herd daemon running for project ${this.project} (its socket is left from a daemon that was killed); ${start}`,
          'NO_DAEMON',
        );
      case 'EACCES':
      case 'EPERM':
        return new HerdError(
          `permission denied on ${this.socketPath}: the daemon of project ${this.project} belongs to another user`,
          'STATE',
        );
      case 'ABORT_ERR':
        return err;
      default:
        return new HerdError(
          `cannot reach the herd daemon of project ${this.project} at ${this.socketPath}: ${err.code ?? err.message}`,
          'NO_DAEMON',
        );
    }
  }

  private async errorFrom(res: IncomingMessage): Promise<HerdError> {
    return this.errorText(res.statusCode ?? 0, await readAll(res));
  }

  /** The daemon's error reply as the HerdError it stands for: its message, and its code so the
   * caller can branch on the kind of failure. */
  private errorText(status: number, text: string): HerdError {
    let message = text;
    let code: HerdErrorCode = 'FAILED';
    try {
      const reply = JSON.parse(text) as Partial<ErrorResponse>;
      message = reply.error ?? text;
      if (typeof reply.code === 'string') code = reply.code;
    } catch {
      // not JSON: show it as is
    }
    return new HerdError(message || `the herd daemon answered HTTP ${status}`, code);
  }
}

async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Who answers on `socketPath`, or undefined when nothing does (no file, or a dead socket). */
export async function probeSocket(
  socketPath: string,
  timeoutMs = 2000,
): Promise<PingResponse | undefined> {
  if (!existsSync(socketPath)) return undefined;
  verifySocket(socketPath);
  return new Promise((resolve, reject) => {
    // Connected but silent is not dead: a daemon that is busy or stopped (SIGSTOP) still owns
    // its replicas, and taking it for dead would stop them under it.
    let connected = false;
    const req = httpRequest(
      { socketPath, path: '/v1/ping', timeout: timeoutMs, agent: false },
      (res) => {
        readAll(res).then(
          (text) => {
            try {
              const ping: unknown = JSON.parse(text);
              const ok = res.statusCode === 200 && !replyShapes['GET /v1/ping']!(ping, '');
              resolve(ok ? (ping as PingResponse) : undefined);
            } catch {
              resolve(undefined);
            }
          },
          () => resolve(undefined),
        );
      },
    );
    req.on('socket', (s) => s.once('connect', () => (connected = true)));
    req.on('timeout', () => {
      if (connected) reject(new DaemonUnresponsive(socketPath, timeoutMs));
      req.destroy();
    });
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** Refuses a state dir or socket another user could have planted (a missing one is left to the
 * connect, which reports "no daemon"). */
function verifySocket(socketPath: string): void {
  checkStateDir(dirname(socketPath));
  checkOwnFile(socketPath, 'socket');
}

/** Something answered on the socket that is not a reply herd understands. */
export class BadReply extends HerdError {
  constructor(socketPath: string, route: string, problem: string) {
    super(
      `the daemon at ${socketPath} answered something herd does not understand ` +
        `(${route}: ${problem}); is it a herd of another version, or not herd at all? ` +
        'Stop it and run `herd up` again',
      'BAD_REPLY',
    );
  }
}

/** A daemon holds the socket but does not answer. */
export class DaemonUnresponsive extends HerdError {
  constructor(socketPath: string, timeoutMs: number) {
    super(
      `a herd daemon holds ${socketPath} but did not answer within ${timeoutMs / 1000} s ` +
        `(busy, or stopped with SIGSTOP?); try again, or end it (kill -9 <daemonPid from ` +
        `${join(dirname(socketPath), 'state.json')}>) and run \`herd up\` again`,
      'DAEMON_UNRESPONSIVE',
    );
  }
}
