// One connection from the proxy to a replica, reused across requests (HTTP keep-alive).
// Its socket listeners are attached once and dispatch to whichever exchange owns it now.
import net from 'node:net';
import { ioDeadline } from '../util/timers.ts';
import type { IdleConn, Member } from './balancer.ts';
import { forward, onreadFor } from './fast-read.ts';
import { countSocket, isFdShortage } from './http-fd-reserve.ts';

export interface UpstreamOwner {
  onUpstreamConnect(u: Upstream): void;
  onUpstreamData(u: Upstream, d: Buffer): void;
  onUpstreamClose(u: Upstream): void;
}

export class Upstream implements IdleConn {
  readonly sock: net.Socket;
  owner: UpstreamOwner | null;
  connected = false;
  dead = false;
  /** Served at least one request: a close before any response byte may be a keep-alive race. */
  reused = false;
  idleSince = 0;
  /** The connect failed for lack of file descriptors (herd's shortage, not the replica's). */
  fdShortage = false;
  /** Upgraded (WebSocket…): bytes go straight to this client socket. */
  tunnel: net.Socket | null = null;
  private cancelConnectDeadline: (() => void) | undefined;

  constructor(
    readonly member: Member,
    owner: UpstreamOwner,
    connectTimeoutMs: number,
  ) {
    this.owner = owner;
    const onData = (d: Buffer): void => {
      if (this.tunnel) return forward(s, this.tunnel, d);
      const o = this.owner;
      if (o === null) return void s.destroy(); // bytes while idle: broken framing; never reuse
      try {
        o.onUpstreamData(this, d);
      } catch (err) {
        dropAfter(s, err);
      }
    };
    const onread = onreadFor(onData);
    const s = net.connect({ host: member.host, port: member.port, noDelay: true, onread });
    this.sock = s;
    if (!onread) s.on('data', onData);
    this.cancelConnectDeadline = ioDeadline(connectTimeoutMs, () => s.destroy());
    s.on('connect', () => {
      this.cancelConnectDeadline?.();
      this.connected = true;
      guard(s, () => this.owner?.onUpstreamConnect(this));
    });
    countSocket(s);
    // 'close' follows and carries the consequence
    s.on('error', (err) => {
      if (isFdShortage(err)) this.fdShortage = true;
    });
    s.on('close', () => {
      this.cancelConnectDeadline?.();
      this.dead = true;
      const idx = member.idle.indexOf(this);
      if (idx !== -1) member.idle.splice(idx, 1);
      const o = this.owner;
      this.owner = null;
      if (o) guard(s, () => o.onUpstreamClose(this));
    });
  }

  /** Park for reuse (LIFO: the most recently used socket is the likeliest to still be open). */
  park(): void {
    this.owner = null;
    this.reused = true;
    this.idleSince = Date.now();
    if (this.member.removed || this.member.draining) this.sock.destroy();
    else this.member.idle.push(this);
  }

  destroy(): void {
    this.owner = null;
    this.sock.destroy();
  }
}

/** Take a live idle connection to `m`, if any. */
export function takeIdle(m: Member): Upstream | undefined {
  while (m.idle.length) {
    const u = m.idle.pop() as Upstream;
    if (!u.dead && !u.sock.destroyed) return u;
  }
  return undefined;
}

/** A bug in one exchange must not take the process down: drop that connection instead. */
function guard(s: net.Socket, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    dropAfter(s, err);
  }
}

function dropAfter(s: net.Socket, err: unknown): void {
  s.destroy();
  process.emitWarning(
    `herd proxy: dropped a connection after an internal error: ${(err as Error)?.stack ?? err}`,
  );
}
