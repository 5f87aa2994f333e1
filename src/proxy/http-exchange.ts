// The replica side of an HTTP session: one attempt at a member at a time — connect or reuse a
// parked connection, send the request head, frame the response back to the client (1xx, sticky
// cookie, Content-Length/chunked/until-close), tunnel an upgrade, and account for the attempt.
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Member } from './balancer.ts';
import { BodyFramer } from './body-framer.ts';
import { getCookie } from './http-parse.ts';
import { fdReserve } from './http-fd-reserve.ts';
import { clientHead, parseResponseHead } from './http-response.ts';
import type { ResponseHead } from './http-response.ts';
import type { HttpListenerContext } from './http-limits.ts';
import { openTunnel } from './http-tunnel.ts';
import { endClient } from './http-write.ts';
import { ioDeadline } from '../util/timers.ts';
import { Upstream, takeIdle } from './upstream.ts';
import type { UpstreamOwner } from './upstream.ts';
import type { ClientSide } from './http-client-side.ts';

export type { ClientSide };

const CRLFCRLF = Buffer.from('\r\n\r\n');
const MAX_RESPONSE_HEAD = 64 * 1024;
/** A rewritten head and at most this much of the body go out as one string (one write). */
const JOIN_BODY_MAX = 2048;

const enum R {
  Head,
  /** framed by Content-Length or chunks (respBody) */
  Body,
  UntilClose,
  Done,
}

/** Made once per client connection and reused for each of its requests and their retries. */
export class UpstreamExchange implements UpstreamOwner {
  /** The connection to the replica being tried (null between attempts and once answered). */
  up: Upstream | null = null;
  /** Some of the response arrived: the attempt can no longer be retried or answered by herd. */
  gotResponseByte = false;
  private member: Member | null = null;
  /** Cancels the deadline of a member on probation (slow start) that has not begun its first
   * answer. */
  private cancelFirstAnswer: (() => void) | undefined;
  private t0 = 0;
  private respState = R.Head;
  private respHead: Buffer | null = null;
  private respBody: BodyFramer | null = null;
  private respClose = false;
  private upstreamBroken = false;
  /** The last response was delimited by the upstream closing: the client must see a close. */
  private untilClose = false;
  private readonly client: net.Socket;
  private readonly ctx: HttpListenerContext;

  constructor(private readonly s: ClientSide) {
    this.client = s.client;
    this.ctx = s.ctx;
  }

  /** The whole response went to the client. */
  get responded(): boolean {
    return this.respState === R.Done;
  }

  /** The response was delimited by the replica closing: the client connection closes too. */
  get closesClient(): boolean {
    return this.untilClose;
  }

  /** Try member `m`: on a parked connection at once, else once a new one connects. */
  start(m: Member): void {
    this.member = m;
    m.inFlight++;
    m.counters.inFlight++;
    this.t0 = performance.now();
    this.gotResponseByte = false;
    this.respState = R.Head;
    this.respHead = null;
    this.upstreamBroken = false;
    const wait = this.ctx.balancer.firstAnswerMs(m, this.resendable);
    if (wait !== undefined)
      this.cancelFirstAnswer = ioDeadline(wait, () => this.firstAnswerLate(m));
    const idle = takeIdle(m);
    if (idle) {
      idle.owner = this;
      this.up = idle;
      this.send();
    } else this.up = new Upstream(m, this, this.ctx.limits.connectTimeoutMs);
  }

  onUpstreamConnect(u: Upstream): void {
    if (u !== this.up) return;
    this.ctx.balancer.connectOk(u.member);
    this.send();
  }

  private send(): void {
    const s = this.up!.sock;
    const head = this.s.forwardedHead();
    const body = this.s.bodyBuf;
    if (body) {
      s.cork();
      s.write(head, 'latin1');
      s.write(body);
      s.uncork();
    } else s.write(head, 'latin1');
    this.s.headSent(s);
  }

  onUpstreamData(u: Upstream, d: Buffer): void {
    if (u !== this.up || !this.s.exchanging) {
      u.destroy();
      return;
    }
    this.s.lastActive = Date.now();
    this.cancelFirstAnswer?.();
    try {
      this.gotResponseByte = true;
      if (this.respState === R.Head) this.responseHead(d);
      else this.responseBody(d, 0);
    } catch (err) {
      this.s.fail(err);
    }
  }

  /** Collects the response head; interim (1xx) heads pass through before the final one. */
  private responseHead(d: Buffer): void {
    let hb = this.respHead === null ? d : Buffer.concat([this.respHead, d]);
    for (;;) {
      const idx = hb.indexOf(CRLFCRLF);
      if (idx === -1) {
        if (hb.length > MAX_RESPONSE_HEAD) return this.badResponse('response head too large');
        this.respHead = hb;
        return;
      }
      this.respHead = null;
      let head: ResponseHead;
      const text = hb.toString('latin1', 0, idx);
      try {
        head = parseResponseHead(text);
      } catch (err) {
        return this.badResponse((err as Error).message);
      }
      if (head.status >= 200) return this.finalHead(head, text, hb, idx);
      if (head.status === 101) {
        if (this.s.req!.upgrade) return this.tunnel(hb);
        return this.badResponse('101 Switching Protocols to a request without Upgrade');
      }
      // 100 Continue and other interim answers pass through (HTTP/1.1 clients only: 1.0 has
      // no 1xx); the final head follows.
      const bodyStart = idx + 4;
      if (this.s.req!.minor === 1) this.client.write(hb.subarray(0, bodyStart));
      if (bodyStart === hb.length) return;
      hb = hb.subarray(bodyStart);
    }
  }

  /** The final head `text` ends at `idx` in `hb`: how its body is framed, and the head the
   * client gets (hop-by-hop fields out, herd's Connection, the sticky cookie). */
  private finalHead(head: ResponseHead, text: string, hb: Buffer, idx: number): void {
    const m = this.member!;
    const req = this.s.req!;
    m.counters.answered(head.status);
    this.respClose = head.close;
    if (req.method === 'HEAD' || head.status === 204 || head.status === 304)
      this.respState = R.Done;
    else if (head.chunked) {
      this.respState = R.Body;
      (this.respBody ??= new BodyFramer()).chunked();
    } else if (head.contentLength === 0) this.respState = R.Done;
    else if (head.contentLength > 0) {
      this.respState = R.Body;
      (this.respBody ??= new BodyFramer()).length(head.contentLength);
    } else this.respState = R.UntilClose;
    // The client connection is herd's: it closes when the client asked for that or when only
    // the close can end this response; an HTTP/1.0 client is told that it stays open.
    const conn =
      !req.keepAlive || this.respState === R.UntilClose
        ? 'close'
        : req.minor === 0
          ? 'keep-alive'
          : '';
    const sticky = this.ctx.balancer.lb.stickyCookie;
    const cookie =
      sticky && getCookie(req.cookie, sticky) !== m.id
        ? `Set-Cookie: ${sticky}=${m.id}; Path=/; HttpOnly\r\n`
        : '';
    this.responseBody(hb, idx + 4, clientHead(text, head, conn, cookie));
  }

  /** d[start…] is body; d[0, start) is head bytes not yet written, or `head` replaces them. */
  private responseBody(d: Buffer, start: number, head: string | null = null): void {
    let end = d.length;
    if (this.respState === R.Body) {
      let e: number;
      try {
        e = this.respBody!.feed(d, start);
      } catch {
        return this.badResponse('malformed chunked response');
      }
      if (e !== -1) {
        end = e;
        this.respState = R.Done;
      }
    } else if (this.respState === R.Done) end = start;
    if (end < d.length) this.upstreamBroken = true; // bytes past the response: do not reuse
    if (!this.writeClient(d, start, end, head)) this.pauseUpstream();
    if (this.respState === R.Done) this.responseDone();
  }

  /** Writes d[0, end) to the client, `head` in place of d[0, start) if given; false when the
   * client's buffer is full. */
  private writeClient(d: Buffer, start: number, end: number, head: string | null): boolean {
    const c = this.client;
    if (head === null) return end === 0 || c.write(end === d.length ? d : d.subarray(0, end));
    const n = end - start;
    // a small body rides along in the head's write; a large one is passed on as it came
    if (n <= JOIN_BODY_MAX)
      return c.write(n === 0 ? head : head + d.toString('latin1', start, end), 'latin1');
    c.cork();
    c.write(head, 'latin1');
    const ok = c.write(d.subarray(start, end));
    c.uncork();
    return ok;
  }

  /** The client reads slower than the replica answers: stop reading from the replica until the
   * client has taken what was written, so a large response never piles up in herd's memory. */
  private pauseUpstream(): void {
    const up = this.up;
    if (!up || this.respState === R.Done) return;
    up.sock.pause();
    this.client.once('drain', () => {
      // Progress on the client side: the replica is not the one being slow.
      this.s.lastActive = Date.now();
      if (!up.sock.destroyed) up.sock.resume();
    });
  }

  private tunnel(head: Buffer): void {
    const up = this.up!;
    const m = this.member!;
    const early = this.s.startTunnel();
    this.release(m, true, true);
    openTunnel(this.client, up, m.counters, head, early);
  }

  private responseDone(): void {
    const m = this.member!;
    const up = this.up!;
    this.release(m, true, true);
    this.up = null;
    this.respState = R.Done;
    const bodyDone = this.s.bodyDone;
    if (!this.respClose && !this.upstreamBroken && bodyDone) up.park();
    else up.destroy();
    if (bodyDone) this.s.exchangeDone();
    // The replica answered before the request body ended: the rest of the body is read and
    // dropped (see the session), then exchangeDone() runs. Reading may have been paused for the
    // replica's socket to drain, which will never happen now.
    else if (this.client.isPaused()) this.client.resume();
  }

  onUpstreamClose(u: Upstream): void {
    if (u !== this.up || !this.s.exchanging) return;
    this.up = null;
    const m = this.member!;
    if (this.respState === R.UntilClose) {
      // the close is the end of this response; the client connection must close too
      this.untilClose = true;
      this.respState = R.Done;
      this.release(m, true, true);
      if (this.s.bodyDone) this.s.exchangeDone();
      else endClient(this.client);
      return;
    }
    if (!u.connected && u.fdShortage) {
      // herd itself is out of descriptors: no fault of the replica's, and no other would do
      this.release(m, false, false);
      fdReserve.shortage();
      this.s.reply(503, 'herd is out of file descriptors\n');
      return;
    }
    if (!u.connected) {
      this.ctx.balancer.connectFailed(m);
      this.release(m, false, true);
      this.s.retryOrFail(m, 'could not connect to');
      return;
    }
    if (!this.gotResponseByte) {
      this.release(m, false, !u.reused);
      if (this.s.retryable) {
        this.s.retryOrFail(m, 'connection lost to');
        return;
      }
      this.s.reply(502, `replica ${m.id} closed the connection\n`);
      return;
    }
    if (this.respState === R.Head) {
      // It closed inside the response head: the client has seen nothing of it yet.
      this.release(m, false, true);
      this.s.reply(502, `replica ${m.id} closed the connection mid-response\n`);
      return;
    }
    // part of the response is already with the client: all we can do is cut it.
    this.release(m, false, true);
    this.client.destroy();
  }

  onUpstreamTimeout(u: Upstream): void {
    if (u !== this.up) return;
    const m = this.member!;
    this.dropUpstream(m);
    if (!this.gotResponseByte) this.s.reply(504, `replica ${m.id} did not answer in time\n`);
    else this.client.destroy();
  }

  /** A new replica that listens but does not answer (starved of CPU while its siblings boot,
   * say) is set aside; a request that may be sent again goes to another replica now, once, with
   * this one kept as the last resort (slow is not failed). Others wait: they cannot be resent. */
  private firstAnswerLate(m: Member): void {
    if (this.member !== m || this.gotResponseByte) return;
    this.ctx.balancer.setAside(m);
    if (!this.resendable) return;
    this.dropUpstream(m);
    this.s.retrySlow();
  }

  /** Whether this request may be sent to another replica once, the slow one set aside: an
   * idempotent method whose body is all here, not resent that way before. */
  private get resendable(): boolean {
    return this.s.retryable && this.s.bodyDone && this.s.slowRetryLeft;
  }

  /** Ends the attempt at `m` here: its connection closed, counted as not completed. */
  private dropUpstream(m: Member): void {
    const up = this.up;
    this.up = null;
    up?.destroy();
    this.release(m, false, true);
  }

  private badResponse(why: string): void {
    const m = this.member!;
    this.dropUpstream(m);
    if (this.gotResponseByte && this.respState !== R.Head) this.client.destroy();
    else this.s.reply(502, `replica ${m.id} sent an invalid response: ${why}\n`);
  }

  /** The session gives up on the request (it answers or drops the client itself): close the
   * replica connection and count a failed attempt. */
  abort(): void {
    if (this.up) {
      this.up.destroy();
      this.up = null;
    }
    if (this.member) this.release(this.member, false, true);
  }

  /** The client went away mid-exchange: not the replica's fault, so no error is counted. */
  clientGone(): void {
    const m = this.member;
    this.up?.destroy();
    this.up = null;
    if (m && this.respState !== R.Done) this.release(m, false, false);
  }

  /** Close the books on one attempt at member `m`. */
  private release(m: Member, ok: boolean, countError: boolean): void {
    if (this.member !== m) return;
    this.member = null;
    this.cancelFirstAnswer?.();
    m.inFlight--;
    m.counters.inFlight--;
    m.counters.requests++;
    if (!ok && countError) m.counters.errors++;
    m.counters.observe(performance.now() - this.t0);
    m.settled();
  }
}
