// One client connection in HTTP mode: reads requests one at a time (pipelined ones wait in
// the buffer), balances each request separately, streams bodies as Buffers, retries what is
// safe to retry, and frames responses just enough to reuse both connections.
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Balancer, Member, PickContext } from './balancer.ts';
import {
  ChunkedScanner,
  HttpParseError,
  parseRequestHead,
  parseResponseHead,
} from './http-parse.ts';
import type { RequestHead } from './http-parse.ts';
import { forward, readAccepted } from './fast-read.ts';
import { Upstream, takeIdle } from './upstream.ts';
import type { UpstreamOwner } from './upstream.ts';

export interface HttpLimits {
  maxHeaderBytes: number;
  maxHeaders: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  holdMs: number;
  connectTimeoutMs: number;
  upstreamTimeoutMs: number;
  /** Request bodies up to this size are buffered so the request can be replayed. */
  retryBodyMax: number;
  maxAttempts: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 100,
  headerTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  holdMs: 5_000,
  connectTimeoutMs: 3_000,
  upstreamTimeoutMs: 60_000,
  retryBodyMax: 64 * 1024,
  maxAttempts: 4,
};

export interface HttpListenerContext {
  balancer: Balancer;
  limits: HttpLimits;
  /** The port clients connected to, for X-Forwarded-Port. */
  port: number;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
/** nginx's lingering_timeout: how long a closed exchange waits for the client to close too. */
const LINGER_MS = 5000;
const REASONS: Record<number, string> = {
  400: 'Bad Request',
  431: 'Request Header Fields Too Large',
  505: 'HTTP Version Not Supported',
};
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const MAX_RESPONSE_HEAD = 64 * 1024;
/** Pipelined bytes we hold while a request is in flight before pausing the client. */
const MAX_PIPELINE_BUFFER = 256 * 1024;

const enum S {
  Head,
  WaitBody,
  Dispatch,
  Exchange,
  Tunnel,
  Closed,
}
const enum R {
  Head,
  Length,
  Chunked,
  UntilClose,
  Done,
}

export class HttpSession implements UpstreamOwner {
  private state = S.Head;
  private buf: Buffer | null = null;
  private headerTimer: NodeJS.Timeout | undefined;
  private req: RequestHead | null = null;
  private fwdHead = '';
  /** Whole request body when buffered (replayable); null when streamed or absent. */
  private bodyBuf: Buffer | null = null;
  private bodyMode: 0 | 1 | 2 = 0; // none, length, chunked (streamed)
  private bodyLeft = 0;
  private bodyDone = true;
  private reqScanner: ChunkedScanner | null = null;
  private retryable = false;
  private tried: Member[] | null = null;
  private attempts = 0;
  private member: Member | null = null;
  private up: Upstream | null = null;
  private t0 = 0;
  private gotResponseByte = false;
  private respState = R.Head;
  private respHead: Buffer | null = null;
  private respLeft = 0;
  private respClose = false;
  private respScanner: ChunkedScanner | null = null;
  private upstreamBroken = false;
  private lastActive = Date.now();
  /** When a request held for lack of replicas gives up (0: not held yet). */
  private holdUntil = 0;
  private readonly onData = (d: Buffer): void => this.clientData(d);
  private readonly onDrainResume = (): void => {
    if (this.state !== S.Closed) this.client.resume();
  };

  constructor(
    private readonly client: net.Socket,
    private readonly ctx: HttpListenerContext,
    first: Buffer | null,
  ) {
    client.setNoDelay(true);
    readAccepted(client, this.onData);
    client.on('error', () => {});
    client.on('close', () => this.clientClosed());
    if (first) this.clientData(first);
  }

  // ---- client side ------------------------------------------------------------------------

  private clientData(d: Buffer): void {
    if (this.state === S.Tunnel) {
      if (this.up) forward(this.client, this.up.sock, d);
      return;
    }
    this.lastActive = Date.now();
    try {
      // Body bytes wait here until the upstream is connected: if the connect fails the request
      // is retried elsewhere, and it must go there whole. Once the replica has answered in full
      // (before the body ended), the rest of the body is read and dropped.
      const answered = this.up === null && this.respState === R.Done;
      if (this.state === S.Exchange && !this.bodyDone && (answered || this.up?.connected)) {
        this.forwardBody(d);
        return;
      }
      this.buf = this.buf === null ? d : Buffer.concat([this.buf, d]);
      if (this.state === S.Head) this.readHead();
      else if (this.state === S.WaitBody) this.checkBufferedBody();
      else if (this.buf.length > MAX_PIPELINE_BUFFER) this.client.pause();
    } catch (err) {
      this.fail(err);
    }
  }

  private readHead(): void {
    let buf = this.buf;
    if (buf === null) return;
    // RFC 9112 §2.2: ignore empty lines before a request line.
    let skip = 0;
    while (skip < buf.length && (buf[skip] === 0x0d || buf[skip] === 0x0a)) skip++;
    if (skip) {
      buf = skip === buf.length ? null : buf.subarray(skip);
      this.buf = buf;
      if (buf === null) return;
    }
    const idx = buf.indexOf(CRLFCRLF);
    if (idx === -1 || idx + 4 > this.ctx.limits.maxHeaderBytes) {
      if (buf.length > this.ctx.limits.maxHeaderBytes || idx !== -1) {
        this.reply(431, 'Request Header Fields Too Large', 'request headers too large\n');
        return;
      }
      if (!this.headerTimer) {
        this.headerTimer = setTimeout(() => {
          if (this.state === S.Head && this.buf !== null)
            this.reply(408, 'Request Timeout', 'request headers took too long\n');
        }, this.ctx.limits.headerTimeoutMs);
      }
      return;
    }
    if (this.headerTimer) {
      clearTimeout(this.headerTimer);
      this.headerTimer = undefined;
    }
    const lb = this.ctx.balancer.lb;
    let req: RequestHead;
    try {
      req = parseRequestHead(
        buf.toString('latin1', 0, idx),
        this.ctx.limits.maxHeaders,
        lb.algorithm === 'hash' && lb.hashOn?.kind === 'header',
      );
    } catch (err) {
      if (err instanceof HttpParseError) {
        this.reply(err.status, REASONS[err.status] ?? 'Bad Request', `${err.message}\n`);
        return;
      }
      throw err;
    }
    const rest = idx + 4;
    this.buf = rest < buf.length ? buf.subarray(rest) : null;
    this.req = req;
    this.tried = null;
    this.attempts = 0;
    this.holdUntil = 0;
    this.bodyBuf = null;
    this.fwdHead = '';
    const idempotent = IDEMPOTENT.has(req.method);
    if (
      req.chunked ||
      req.contentLength > this.ctx.limits.retryBodyMax ||
      (req.contentLength > 0 && req.expectContinue)
    ) {
      // Streamed body: only a connect failure (nothing sent yet) can be retried.
      this.bodyMode = req.chunked ? 2 : 1;
      this.bodyLeft = req.contentLength;
      this.bodyDone = false;
      this.retryable = false;
      if (req.chunked) {
        this.reqScanner ??= new ChunkedScanner();
        this.reqScanner.reset();
      }
      this.dispatch();
      return;
    }
    this.bodyMode = 0;
    this.bodyDone = true;
    this.retryable = idempotent;
    if (req.contentLength > 0) {
      this.state = S.WaitBody;
      this.checkBufferedBody();
      return;
    }
    this.dispatch();
  }

  private checkBufferedBody(): void {
    const n = this.req!.contentLength;
    const buf = this.buf;
    if (buf === null || buf.length < n) return;
    this.bodyBuf = buf.length === n ? buf : buf.subarray(0, n);
    this.buf = buf.length === n ? null : buf.subarray(n);
    this.dispatch();
  }

  private forwardBody(d: Buffer): void {
    const up = this.up;
    let chunk = d;
    let rest: Buffer | null = null;
    if (this.bodyMode === 1) {
      if (d.length >= this.bodyLeft) {
        chunk = d.subarray(0, this.bodyLeft);
        rest = d.length > this.bodyLeft ? d.subarray(this.bodyLeft) : null;
        this.bodyLeft = 0;
        this.bodyDone = true;
      } else this.bodyLeft -= d.length;
    } else {
      let end: number;
      try {
        end = this.reqScanner!.feed(d, 0);
      } catch {
        this.reply(400, 'Bad Request', 'malformed chunked body\n');
        return;
      }
      if (end !== -1) {
        chunk = d.subarray(0, end);
        rest = end < d.length ? d.subarray(end) : null;
        this.bodyDone = true;
      }
    }
    if (rest) this.buf = this.buf === null ? rest : Buffer.concat([this.buf, rest]);
    if (up && !up.sock.destroyed && chunk.length && !up.sock.write(chunk)) {
      this.client.pause();
      up.sock.once('drain', this.onDrainResume);
    }
    if (this.bodyDone && this.respState === R.Done) this.exchangeDone();
  }

  /** Idle and upstream timeouts, checked by the listener's sweep (socket timers cost ~25% CPU). */
  tick(now: number): void {
    const idle = now - this.lastActive;
    const l = this.ctx.limits;
    if (this.state === S.Head && this.buf === null && idle > l.idleTimeoutMs) this.client.destroy();
    else if (this.state === S.WaitBody && idle > l.idleTimeoutMs)
      this.reply(408, 'Request Timeout', 'request body took too long\n');
    else if (this.state === S.Exchange && this.up === null && idle > l.idleTimeoutMs)
      this.endClient(); // answered, but the rest of the request body never came
    else if (
      this.state === S.Exchange &&
      this.up &&
      this.up.connected &&
      idle > l.upstreamTimeoutMs
    )
      this.onUpstreamTimeout(this.up);
    // tunnels have no idle limit; holding has its own timer
  }

  get closed(): boolean {
    return this.state === S.Closed;
  }

  private clientClosed(): void {
    if (this.headerTimer) clearTimeout(this.headerTimer);
    const wasOpen = this.state === S.Exchange || this.state === S.Tunnel;
    this.state = S.Closed;
    if (wasOpen && this.up) {
      const m = this.member;
      this.up.destroy();
      this.up = null;
      if (m && this.respState !== R.Done) this.release(m, false, false);
    }
  }

  // ---- balancing and connecting ------------------------------------------------------------

  private pickContext(): PickContext | null {
    const lb = this.ctx.balancer.lb;
    if (lb.algorithm !== 'hash' && !lb.stickyCookie) return null;
    const req = this.req!;
    return {
      clientIp: this.client.remoteAddress,
      header: (n) => req.headerMap?.get(n),
      cookie: (n) => getCookie(req.cookie, n),
    };
  }

  private dispatch(): void {
    this.state = S.Dispatch;
    const bal = this.ctx.balancer;
    const m = bal.pick(this.tried, this.pickContext());
    if (m) {
      this.useMember(m);
      return;
    }
    // Nobody (left) to try: hold the request a bounded time, a replica may be (re)starting.
    const now = Date.now();
    if (this.holdUntil === 0) this.holdUntil = now + this.ctx.limits.holdMs;
    const remaining = this.holdUntil - now;
    if (remaining > 0) {
      bal.waitForMember(remaining, () => {
        if (this.state === S.Dispatch) this.dispatch();
      });
      return;
    }
    if (this.tried !== null)
      this.reply(502, 'Bad Gateway', `no replica of service "${bal.service}" could be reached\n`);
    else
      this.reply(
        503,
        'Service Unavailable',
        `service "${bal.service}" has no ready replica\n`,
        'Retry-After: 5\r\n',
      );
  }

  private useMember(m: Member): void {
    this.state = S.Exchange;
    this.attempts++;
    this.member = m;
    m.inFlight++;
    m.counters.inFlight++;
    this.t0 = performance.now();
    this.lastActive = Date.now();
    this.gotResponseByte = false;
    this.respState = R.Head;
    this.respHead = null;
    this.upstreamBroken = false;
    const idle = takeIdle(m);
    if (idle) {
      idle.owner = this;
      this.up = idle;
      this.send();
    } else {
      const l = this.ctx.limits;
      this.up = new Upstream(m, this, l.connectTimeoutMs);
    }
  }

  onUpstreamConnect(u: Upstream): void {
    if (u !== this.up) return;
    this.ctx.balancer.connectOk(u.member);
    this.send();
  }

  private send(): void {
    const up = this.up!;
    const req = this.req!;
    if (this.fwdHead === '') this.fwdHead = this.buildHead(req);
    const s = up.sock;
    if (this.bodyBuf) {
      s.cork();
      s.write(this.fwdHead, 'latin1');
      s.write(this.bodyBuf);
      s.uncork();
    } else s.write(this.fwdHead, 'latin1');
    if (!this.bodyDone && this.buf) {
      const b = this.buf;
      this.buf = null;
      this.forwardBody(b);
    }
    // Reading paused while the body waited for the connect: go on unless the upstream is full.
    if (!this.bodyDone && this.client.isPaused() && !s.writableNeedDrain) this.client.resume();
  }

  private buildHead(req: RequestHead): string {
    const ip = this.client.remoteAddress ?? '';
    const xff = req.xForwardedFor ? `${req.xForwardedFor}, ${ip}` : ip;
    let h = `${req.method} ${req.target} HTTP/1.${req.minor}\r\n${req.forwardLines}X-Forwarded-For: ${xff}\r\nX-Forwarded-Proto: http\r\n`;
    if (req.host !== undefined) h += `X-Forwarded-Host: ${req.host}\r\n`;
    h += `X-Forwarded-Port: ${this.ctx.port}\r\n`;
    h += req.upgrade
      ? `Upgrade: ${req.upgrade}\r\nConnection: Upgrade\r\n\r\n`
      : 'Connection: keep-alive\r\n\r\n';
    return h;
  }

  // ---- upstream side -----------------------------------------------------------------------

  onUpstreamData(u: Upstream, d: Buffer): void {
    if (u !== this.up || this.state !== S.Exchange) {
      u.destroy();
      return;
    }
    this.lastActive = Date.now();
    try {
      this.gotResponseByte = true;
      this.responseBytes(d);
    } catch (err) {
      this.fail(err);
    }
  }

  private responseBytes(d: Buffer): void {
    let start = 0;
    if (this.respState === R.Head) {
      let hb = this.respHead === null ? d : Buffer.concat([this.respHead, d]);
      for (;;) {
        const idx = hb.indexOf(CRLFCRLF);
        if (idx === -1) {
          if (hb.length > MAX_RESPONSE_HEAD) return this.badResponse('response head too large');
          this.respHead = hb;
          return;
        }
        this.respHead = null;
        let head;
        try {
          head = parseResponseHead(hb.toString('latin1', 0, idx));
        } catch (err) {
          return this.badResponse((err as Error).message);
        }
        const bodyStart = idx + 4;
        if (head.status < 200) {
          if (head.status === 101) {
            if (this.req!.upgrade) return this.tunnel(hb);
            return this.badResponse('101 Switching Protocols to a request without Upgrade');
          }
          // 100 Continue and other interim answers pass through (HTTP/1.1 clients only: 1.0 has
          // no 1xx); the final head follows.
          if (this.req!.minor === 1) this.client.write(hb.subarray(0, bodyStart));
          if (bodyStart === hb.length) return;
          hb = hb.subarray(bodyStart);
          continue;
        }
        const m = this.member!;
        if (head.status >= 500) m.counters.errors++;
        this.respClose = head.close;
        const method = this.req!.method;
        if (method === 'HEAD' || head.status === 204 || head.status === 304)
          this.respState = R.Done;
        else if (head.chunked) {
          this.respState = R.Chunked;
          this.respScanner ??= new ChunkedScanner();
          this.respScanner.reset();
        } else if (head.contentLength >= 0) {
          this.respState = head.contentLength === 0 ? R.Done : R.Length;
          this.respLeft = head.contentLength;
        } else this.respState = R.UntilClose;
        const lb = this.ctx.balancer.lb;
        if (lb.stickyCookie && getCookie(this.req!.cookie, lb.stickyCookie) !== m.id) {
          this.client.write(hb.subarray(0, idx + 2));
          this.client.write(
            `Set-Cookie: ${lb.stickyCookie}=${m.id}; Path=/; HttpOnly\r\n\r\n`,
            'latin1',
          );
          d = hb.subarray(bodyStart);
          start = 0;
        } else {
          d = hb;
          start = bodyStart;
        }
        break;
      }
    }
    // d[0, start) is head bytes not yet written; d[start…] is body.
    let end = d.length;
    switch (this.respState) {
      case R.Length:
        if (end - start >= this.respLeft) {
          end = start + this.respLeft;
          this.respLeft = 0;
          this.respState = R.Done;
        } else this.respLeft -= end - start;
        break;
      case R.Chunked: {
        let e: number;
        try {
          e = this.respScanner!.feed(d, start);
        } catch {
          return this.badResponse('malformed chunked response');
        }
        if (e !== -1) {
          end = e;
          this.respState = R.Done;
        }
        break;
      }
      case R.Done:
        end = start;
        break;
      default:
        break;
    }
    if (end < d.length) this.upstreamBroken = true; // bytes past the response: do not reuse
    if (end > 0 && !this.client.write(end === d.length ? d : d.subarray(0, end)))
      this.pauseUpstream();
    if (this.respState === R.Done) this.responseDone();
  }

  /** The client reads slower than the replica answers: stop reading from the replica until the
   * client has taken what was written, so a large response never piles up in herd's memory. */
  private pauseUpstream(): void {
    const up = this.up;
    if (!up || this.respState === R.Done) return;
    up.sock.pause();
    this.client.once('drain', () => {
      // Progress on the client side: the replica is not the one being slow.
      this.lastActive = Date.now();
      if (!up.sock.destroyed) up.sock.resume();
    });
  }

  private tunnel(head: Buffer): void {
    const up = this.up!;
    const m = this.member!;
    this.state = S.Tunnel;
    this.release(m, true, true);
    m.counters.connections++;
    this.client.write(head);
    // From here on each side's reads are written to the other (see clientData / Upstream).
    up.owner = null;
    up.tunnel = this.client;
    if (this.buf) up.sock.write(this.buf);
    this.buf = null;
    const done = (): void => {
      if (this.client.destroyed && up.sock.destroyed) return;
      this.client.destroy();
      up.sock.destroy();
    };
    let counted = true;
    const closeBoth = (): void => {
      if (counted) {
        counted = false;
        m.counters.connections--;
      }
      done();
    };
    this.client.on('close', closeBoth);
    up.sock.on('close', closeBoth);
    this.client.resume();
  }

  private responseDone(): void {
    const m = this.member!;
    const up = this.up!;
    this.release(m, true, true);
    this.up = null;
    this.respState = R.Done;
    if (!this.respClose && !this.upstreamBroken && this.bodyDone) up.park();
    else up.destroy();
    if (this.bodyDone) this.exchangeDone();
    // The replica answered before the request body ended: the rest of the body is read and
    // dropped (clientData), then exchangeDone() runs. Reading may have been paused for the
    // replica's socket to drain, which will never happen now.
    else if (this.client.isPaused()) this.client.resume();
  }

  private exchangeDone(): void {
    const req = this.req!;
    if (!req.keepAlive || this.respClose || this.untilClose) {
      this.state = S.Closed;
      this.endClient();
      return;
    }
    this.state = S.Head;
    this.req = null;
    this.bodyBuf = null;
    if (this.client.isPaused()) this.client.resume();
    if (this.buf) this.readHead();
  }

  /** The last response was delimited by the upstream closing: the client must see a close. */
  private untilClose = false;

  onUpstreamClose(u: Upstream): void {
    if (u !== this.up || this.state !== S.Exchange) return;
    this.up = null;
    const m = this.member!;
    if (this.respState === R.UntilClose) {
      // the close is the end of this response; the client connection must close too
      this.untilClose = true;
      this.respState = R.Done;
      this.release(m, true, true);
      if (this.bodyDone) this.exchangeDone();
      else this.endClient();
      return;
    }
    if (!u.connected) {
      this.ctx.balancer.connectFailed(m);
      this.release(m, false, true);
      this.retryOrFail(m, 'could not connect to', 502);
      return;
    }
    if (!this.gotResponseByte) {
      this.release(m, false, !u.reused);
      if (this.retryable) {
        this.retryOrFail(m, 'connection lost to', 502);
        return;
      }
      this.reply(502, 'Bad Gateway', `replica ${m.id} closed the connection\n`);
      return;
    }
    if (this.respState === R.Head) {
      // It closed inside the response head: the client has seen nothing of it yet.
      this.release(m, false, true);
      this.reply(502, 'Bad Gateway', `replica ${m.id} closed the connection mid-response\n`);
      return;
    }
    // part of the response is already with the client: all we can do is cut it.
    this.release(m, false, true);
    this.client.destroy();
  }

  onUpstreamTimeout(u: Upstream): void {
    if (u !== this.up) return;
    const m = this.member!;
    this.up = null;
    u.destroy();
    this.release(m, false, true);
    if (!this.gotResponseByte)
      this.reply(504, 'Gateway Timeout', `replica ${m.id} did not answer in time\n`);
    else this.client.destroy();
  }

  private retryOrFail(m: Member, what: string, status: number): void {
    (this.tried ??= []).push(m);
    if (this.attempts < this.ctx.limits.maxAttempts) {
      this.dispatch();
      return;
    }
    this.reply(status, 'Bad Gateway', `${what} replica ${m.id}\n`);
  }

  private badResponse(why: string): void {
    const m = this.member!;
    const up = this.up;
    this.up = null;
    up?.destroy();
    this.release(m, false, true);
    if (this.gotResponseByte && this.respState !== R.Head) this.client.destroy();
    else this.reply(502, 'Bad Gateway', `replica ${m.id} sent an invalid response: ${why}\n`);
  }

  /** Close the books on one attempt at member `m`. */
  private release(m: Member, ok: boolean, countError: boolean): void {
    if (this.member !== m) return;
    this.member = null;
    m.inFlight--;
    m.counters.inFlight--;
    m.counters.requests++;
    if (!ok && countError) m.counters.errors++;
    m.counters.observe(performance.now() - this.t0);
    m.settled();
  }

  // ---- errors ------------------------------------------------------------------------------

  private reply(status: number, reason: string, body: string, extra = ''): void {
    if (this.state === S.Closed) return;
    if (this.headerTimer) clearTimeout(this.headerTimer);
    this.state = S.Closed;
    if (this.up) {
      this.up.destroy();
      this.up = null;
    }
    if (this.member) this.release(this.member, false, true);
    if (this.client.destroyed) return;
    this.endClient(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
    );
  }

  /** Ends the client connection after `last`; a client that never closes its side is cut off
   * LINGER_MS after everything was handed to the kernel, so it cannot hold a descriptor forever. */
  private endClient(last?: string): void {
    const c = this.client;
    c.once('finish', () => setTimeout(() => c.destroy(), LINGER_MS).unref());
    if (last === undefined) c.end();
    else c.end(last);
  }

  private fail(err: unknown): void {
    // Never let one connection take the process down.
    if (this.state === S.Closed) return;
    if (this.state === S.Head || this.state === S.WaitBody || !this.gotResponseByte)
      this.reply(502, 'Bad Gateway', `proxy error: ${(err as Error)?.message ?? err}\n`);
    else {
      this.state = S.Closed;
      this.up?.destroy();
      if (this.member) this.release(this.member, false, true);
      this.client.destroy();
    }
  }
}

export function getCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
