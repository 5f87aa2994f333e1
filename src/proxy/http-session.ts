// One client connection in HTTP mode: reads requests one at a time (pipelined ones wait in
// the buffer), balances each request separately, streams bodies as Buffers, retries what is
// safe to retry, and answers errors itself. The replica side is http-exchange.ts.
import type net from 'node:net';
import type { Member, PickContext } from './balancer.ts';
import { BodyFramer } from './body-framer.ts';
import { HttpParseError, findHead, getCookie, parseRequestHead } from './http-parse.ts';
import type { RequestHead } from './http-parse.ts';
import { UpstreamExchange } from './http-exchange.ts';
import type { ClientSide } from './http-exchange.ts';
import type { HttpListenerContext } from './http-limits.ts';
import { forward, readAccepted } from './fast-read.ts';
import { countSocket, fdReserve } from './http-fd-reserve.ts';
import { endClient, errorResponse, forwardedHead } from './http-write.ts';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
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

// Shared by every session, so that none costs a function of its own.
const ignore = (): void => {};

export class HttpSession implements ClientSide {
  private state = S.Head;
  private buf: Buffer | null = null;
  private headerTimer: NodeJS.Timeout | undefined;
  // The public fields are what the exchange reads of the request (see ClientSide).
  req: RequestHead | null = null;
  bodyBuf: Buffer | null = null;
  bodyDone = true;
  retryable = false;
  lastActive = Date.now();
  private fwdHead = '';
  /** Frames a streamed request body (made at the first one). */
  private streamed: BodyFramer | null = null;
  private tried: Member[] | null = null;
  private attempts = 0;
  /** An attempt of this request was given up as slow (slow start set its replica aside). */
  private slowRetried = false;
  /** When a request held for lack of replicas gives up (0: not held yet). */
  private holdUntil = 0;
  private readonly ex: UpstreamExchange;
  private readonly onData = (d: Buffer): void => this.clientData(d);
  private readonly onDrainResume = (): void => {
    if (this.state !== S.Closed) this.client.resume();
  };

  constructor(
    readonly client: net.Socket,
    readonly ctx: HttpListenerContext,
    first: Buffer | null,
  ) {
    this.ex = new UpstreamExchange(this);
    client.setNoDelay(true);
    client.on('error', ignore);
    countSocket(client);
    if (fdReserve.exhausted()) {
      // Out of descriptors: answer at once instead of leaving the client to a reset.
      this.state = S.Closed;
      endClient(
        client,
        errorResponse(503, 'herd is out of file descriptors\n', 'Retry-After: 1\r\n'),
      );
      return;
    }
    readAccepted(client, this.onData);
    client.on('close', () => this.clientClosed());
    if (first) this.clientData(first);
  }

  // ---- reading requests --------------------------------------------------------------------

  private clientData(d: Buffer): void {
    if (this.state === S.Tunnel) {
      if (this.ex.up) forward(this.client, this.ex.up.sock, d);
      return;
    }
    this.lastActive = Date.now();
    try {
      // Body bytes wait here until the upstream is connected: if the connect fails the request
      // is retried elsewhere, and it must go there whole. Once the replica has answered in full
      // (before the body ended), the rest of the body is read and dropped.
      const up = this.ex.up;
      const answered = up === null && this.ex.responded;
      if (this.state === S.Exchange && !this.bodyDone && (answered || up?.connected)) {
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
    const limits = this.ctx.limits;
    const found = findHead(buf);
    if (found === null || found.next > limits.maxHeaderBytes) {
      if (buf.length > limits.maxHeaderBytes || found !== null) {
        this.reply(431, 'request headers too large\n');
        return;
      }
      if (!this.headerTimer) {
        this.headerTimer = setTimeout(() => {
          if (this.state === S.Head && this.buf !== null)
            this.reply(408, 'request headers took too long\n');
        }, limits.headerTimeoutMs);
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
        found.head,
        limits.maxHeaders,
        lb.algorithm === 'hash' && lb.hashOn?.kind === 'header',
      );
    } catch (err) {
      if (err instanceof HttpParseError) {
        this.reply(err.status, `${err.message}\n`);
        return;
      }
      throw err;
    }
    const rest = found.next;
    this.buf = rest < buf.length ? buf.subarray(rest) : null;
    this.startRequest(req);
  }

  /** A request head was read: decide how its body is read, then send it on. */
  private startRequest(req: RequestHead): void {
    this.req = req;
    this.tried = null;
    this.attempts = 0;
    this.slowRetried = false;
    this.holdUntil = 0;
    this.bodyBuf = null;
    this.fwdHead = '';
    if (
      req.chunked ||
      req.contentLength > this.ctx.limits.retryBodyMax ||
      (req.contentLength > 0 && req.expectContinue)
    ) {
      // Streamed body: only a connect failure (nothing sent yet) can be retried.
      const body = (this.streamed ??= new BodyFramer());
      if (req.chunked) body.chunked();
      else body.length(req.contentLength);
      this.bodyDone = false;
      this.retryable = false;
      this.dispatch();
      return;
    }
    this.bodyDone = true;
    this.retryable = IDEMPOTENT.has(req.method);
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
    const up = this.ex.up;
    let chunk = d;
    let rest: Buffer | null = null;
    let end: number;
    try {
      end = this.streamed!.feed(d, 0);
    } catch {
      this.reply(400, 'malformed chunked body\n');
      return;
    }
    if (end !== -1) {
      chunk = d.subarray(0, end);
      rest = end < d.length ? d.subarray(end) : null;
      this.bodyDone = true;
    }
    if (rest) this.buf = this.buf === null ? rest : Buffer.concat([this.buf, rest]);
    if (up && !up.sock.destroyed && chunk.length && !up.sock.write(chunk)) {
      this.client.pause();
      up.sock.once('drain', this.onDrainResume);
    }
    if (this.bodyDone && this.ex.responded) this.exchangeDone();
  }

  /** Idle and upstream timeouts, checked by the listener's sweep (socket timers cost ~25% CPU). */
  tick(now: number): void {
    const idle = now - this.lastActive;
    const l = this.ctx.limits;
    const up = this.ex.up;
    if (this.state === S.Head && this.buf === null && idle > l.idleTimeoutMs) this.client.destroy();
    else if (this.state === S.WaitBody && idle > l.idleTimeoutMs)
      this.reply(408, 'request body took too long\n');
    else if (this.state === S.Exchange && up === null && idle > l.idleTimeoutMs)
      endClient(this.client); // answered, but the rest of the request body never came
    else if (this.state === S.Exchange && up && up.connected && idle > l.upstreamTimeoutMs)
      this.ex.onUpstreamTimeout(up);
    // tunnels have no idle limit; holding has its own timer
  }

  get closed(): boolean {
    return this.state === S.Closed;
  }

  /** An attempt at a replica is under way (not holding, answering or tunnelling). */
  get exchanging(): boolean {
    return this.state === S.Exchange;
  }

  private clientClosed(): void {
    if (this.headerTimer) clearTimeout(this.headerTimer);
    const wasOpen = this.state === S.Exchange || this.state === S.Tunnel;
    this.state = S.Closed;
    if (wasOpen && this.ex.up) this.ex.clientGone();
  }

  // ---- balancing ---------------------------------------------------------------------------

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
      this.state = S.Exchange;
      this.attempts++;
      this.lastActive = Date.now();
      this.ex.start(m);
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
      this.reply(502, `no replica of service "${bal.service}" could be reached\n`);
    else this.reply(503, `service "${bal.service}" has no ready replica\n`, 'Retry-After: 5\r\n');
  }

  /** The attempt at `m` failed before any response byte: try another replica, if any is left. */
  retryOrFail(m: Member, what: string): void {
    (this.tried ??= []).push(m);
    if (this.attempts < this.ctx.limits.maxAttempts) {
      this.dispatch();
      return;
    }
    this.reply(502, `${what} replica ${m.id}\n`);
  }

  get slowRetryLeft(): boolean {
    return !this.slowRetried;
  }

  /** The replica of this attempt is slow, not failed: it is set aside, so pick() prefers any
   * other and comes back to it only when nothing else is left — then the request waits for it
   * instead of becoming a 502. The given-up attempt does not count against maxAttempts. */
  retrySlow(): void {
    this.slowRetried = true;
    this.attempts--;
    this.dispatch();
  }

  // ---- what the exchange asks of the client side -------------------------------------------

  /** The request head as the replica gets it; built once per request, reused by retries. */
  forwardedHead(): string {
    if (this.fwdHead === '')
      this.fwdHead = forwardedHead(
        this.req!,
        this.client.remoteAddress,
        this.ctx.port,
        this.ctx.keepForwarded,
      );
    return this.fwdHead;
  }

  /** The head went to the replica on `sock`: what came of a streamed body meanwhile follows. */
  headSent(sock: net.Socket): void {
    if (!this.bodyDone && this.buf) {
      const b = this.buf;
      this.buf = null;
      this.forwardBody(b);
    }
    // Reading paused while the body waited for the connect: go on unless the upstream is full.
    if (!this.bodyDone && this.client.isPaused() && !sock.writableNeedDrain) this.client.resume();
  }

  /** The replica switched protocols: from now on bytes flow both ways untouched. Returns what
   * the client sent past the request, for the replica. */
  startTunnel(): Buffer | null {
    this.state = S.Tunnel;
    const early = this.buf;
    this.buf = null;
    return early;
  }

  /** Request and response are both complete: next request, or close. */
  exchangeDone(): void {
    const req = this.req!;
    if (!req.keepAlive || this.ex.closesClient) {
      this.state = S.Closed;
      endClient(this.client);
      return;
    }
    this.state = S.Head;
    this.req = null;
    this.bodyBuf = null;
    if (this.client.isPaused()) this.client.resume();
    if (this.buf) this.readHead();
  }

  // ---- answers and errors ------------------------------------------------------------------

  /** Answer the client with an error of herd's own and close. */
  reply(status: number, body: string, extra = ''): void {
    if (this.state === S.Closed) return;
    if (this.headerTimer) clearTimeout(this.headerTimer);
    this.state = S.Closed;
    this.ex.abort();
    if (this.client.destroyed) return;
    endClient(this.client, errorResponse(status, body, extra));
  }

  fail(err: unknown): void {
    // Never let one connection take the process down.
    if (this.state === S.Closed) return;
    if (this.state === S.Head || this.state === S.WaitBody || !this.ex.gotResponseByte)
      this.reply(502, `proxy error: ${(err as Error)?.message ?? err}\n`);
    else {
      this.state = S.Closed;
      this.ex.abort();
      this.client.destroy();
    }
  }
}
