// The member pool of one listener: who may take traffic, which one gets the next request or
// connection, passive outlier ejection, holding requests while the pool is empty, draining.
import type { HerdServiceExtension } from '../compose/model.ts';
import type { ReplicaCounters } from './counters.ts';
import { Member } from './member.ts';
import { SlowStart } from './slow-start.ts';

// The member type lives in member.ts (slow-start.ts reads it too); importers keep naming it here.
export { Member, type IdleConn } from './member.ts';

export type LbSettings = HerdServiceExtension['lb'];

export interface BalancerOptions {
  service: string;
  lb: LbSettings;
  /** Consecutive connect failures that eject a member (default 3). */
  ejectAfter?: number;
  /** How long an ejected member stays out (default 5 s). */
  ejectMs?: number;
  /** Slow start: a new member's share of round robin / least_conn / p2c picks ramps from 10 % to
   * full over this window, and until it answered its first request it gets one request at a
   * time (default 0: off). */
  slowStartMs?: number;
  /** A request (or connection) is held and the pool has no member: said at once, at most once a
   * second while it stays empty, so that a service scaled to zero is woken (daemon: engine.wake). */
  onHold?: (service: string) => void;
}

/** How often an empty pool that keeps holding requests says so again. */
const HOLD_NOTICE_MS = 1000;

type Waiter = { cb: (m: Member | undefined) => void; timer: NodeJS.Timeout };

/** What a request offers for hashing/stickiness; only read when the algorithm needs it. */
export interface PickContext {
  clientIp?: string;
  header?: (lowerName: string) => string | undefined;
  cookie?: (name: string) => string | undefined;
}

export class Balancer {
  readonly service: string;
  readonly lb: LbSettings;
  private readonly members = new Map<string, Member>();
  /** Members taking new traffic, in join order. */
  private active: Member[] = [];
  private rr = 0;
  private waiters: Waiter[] = [];
  private readonly ejectAfter: number;
  private readonly ejectMs: number;
  private readonly slowStart: SlowStart;
  private readonly onHold: ((service: string) => void) | undefined;
  /** When onHold was last called (0: not while the pool has been empty). */
  private heldNoticeAt = 0;
  private heldTimer: NodeJS.Timeout | undefined;

  constructor(opts: BalancerOptions) {
    this.onHold = opts.onHold;
    this.service = opts.service;
    this.lb = opts.lb;
    this.ejectAfter = opts.ejectAfter ?? 3;
    this.ejectMs = opts.ejectMs ?? 5000;
    this.slowStart = new SlowStart(opts.slowStartMs ?? 0);
  }

  get size(): number {
    return this.active.length;
  }

  member(id: string): Member | undefined {
    return this.members.get(id);
  }

  allMembers(): Member[] {
    return [...this.members.values()];
  }

  /** Add (or re-add with a new address) a member; wakes requests held for an empty pool. */
  add(id: string, host: string, port: number, counters: ReplicaCounters): Member {
    const old = this.members.get(id);
    if (old && !old.removed && old.host === host && old.port === port) {
      old.draining = false;
      old.ejectedUntil = 0;
      old.consecutiveFailures = 0;
      this.rebuild();
      this.wake();
      return old;
    }
    if (old) this.detach(old);
    const m = new Member(id, host, port, counters);
    this.slowStart.joined(m, this.active);
    this.members.set(id, m);
    this.rebuild();
    this.wake();
    return m;
  }

  /** Out of the pool at once; in-flight requests finish on their own. */
  remove(id: string): Member | undefined {
    const m = this.members.get(id);
    if (!m) return undefined;
    this.detach(m);
    return m;
  }

  private detach(m: Member): void {
    m.removed = true;
    m.draining = true;
    this.members.delete(m.id);
    m.closeIdle();
    this.rebuild();
  }

  private rebuild(): void {
    this.active = [...this.members.values()].filter((m) => !m.draining);
  }

  /** A connect failure: after `ejectAfter` in a row the member sits out `ejectMs`. */
  connectFailed(m: Member): void {
    m.consecutiveFailures++;
    if (m.consecutiveFailures >= this.ejectAfter) {
      m.ejectedUntil = Date.now() + this.ejectMs;
      m.consecutiveFailures = 0;
      m.closeIdle();
    }
  }

  connectOk(m: Member): void {
    m.consecutiveFailures = 0;
  }

  /** How long the first answer of `m` is awaited before it is set aside (slow-start.ts), or
   * undefined: not awaited. `resendable`: the request can go to another replica instead. */
  firstAnswerMs(m: Member, resendable: boolean): number | undefined {
    return this.slowStart.firstAnswerMs(m, this.active, resendable);
  }

  /** A member on probation did not answer in time: out for `ejectMs`, after which its slow start
   * begins again (one request first), instead of holding the requests sent to it. */
  setAside(m: Member): void {
    const back = Date.now() + this.ejectMs;
    m.ejectedUntil = back;
    m.closeIdle();
    this.slowStart.restart(m, back);
  }

  /** Choose a member not in `tried`; ejected members only when nothing else is left. */
  pick(tried: Member[] | null, ctx: PickContext | null): Member | undefined {
    const all = this.active;
    if (all.length === 0) return undefined;
    const now = Date.now();
    let cands = all;
    if (tried !== null || this.anyEjected(now)) {
      cands = all.filter((m) => m.ejectedUntil <= now && (tried === null || !tried.includes(m)));
      if (cands.length === 0) {
        cands = all.filter((m) => tried === null || !tried.includes(m));
        if (cands.length === 0) return undefined;
      }
    }
    if (this.lb.stickyCookie && ctx?.cookie) {
      const want = ctx.cookie(this.lb.stickyCookie);
      if (want !== undefined) {
        const m = cands.find((c) => c.id === want);
        if (m) return m;
      }
    }
    if (this.lb.algorithm !== 'hash' && this.slowStart.ramping(now)) {
      const byLoad = this.lb.algorithm === 'least_conn' || this.lb.algorithm === 'p2c';
      // Everyone held back by weight 0 still beats returning nothing.
      return this.slowStart.pick(cands, now, byLoad) ?? this.roundRobin(cands);
    }
    switch (this.lb.algorithm) {
      case 'least_conn':
        return this.leastConn(cands);
      case 'p2c':
        return this.p2c(cands);
      case 'hash': {
        const key = this.hashKey(ctx);
        return key === undefined ? this.roundRobin(cands) : rendezvous(cands, key);
      }
      default:
        return this.roundRobin(cands);
    }
  }

  private anyEjected(now: number): boolean {
    for (const m of this.active) if (m.ejectedUntil > now) return true;
    return false;
  }

  private roundRobin(c: Member[]): Member {
    const m = c[this.rr % c.length]!;
    this.rr = (this.rr + 1) >>> 0;
    return m;
  }

  private leastConn(c: Member[]): Member {
    // Start at a rotating offset so ties spread instead of piling on the first member.
    const start = this.rr++ % c.length;
    let best = c[start]!;
    for (let i = 1; i < c.length; i++) {
      const m = c[(start + i) % c.length]!;
      if (m.inFlight < best.inFlight) best = m;
    }
    return best;
  }

  private p2c(c: Member[]): Member {
    if (c.length === 1) return c[0]!;
    const a = Math.floor(Math.random() * c.length);
    let b = Math.floor(Math.random() * (c.length - 1));
    if (b >= a) b++;
    const ma = c[a]!;
    const mb = c[b]!;
    return mb.inFlight < ma.inFlight ? mb : ma;
  }

  private hashKey(ctx: PickContext | null): string | undefined {
    const on = this.lb.hashOn ?? { kind: 'ip' as const };
    if (!ctx) return undefined;
    if (on.kind === 'ip') return ctx.clientIp;
    if (on.kind === 'header') return ctx.header?.(on.name.toLowerCase());
    return ctx.cookie?.(on.name);
  }

  /** Call back with a member as soon as one joins, or undefined after `ms`. */
  waitForMember(ms: number, cb: (m: Member | undefined) => void): void {
    const w: Waiter = {
      cb,
      timer: setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        cb(undefined);
      }, ms),
    };
    this.waiters.push(w);
    this.tellHeld();
  }

  /** Tells onHold of requests an empty pool holds: at once, then each second while they wait, so
   * that a notice lost on the way (a daemon reconnecting) is sent again. */
  private tellHeld(): void {
    if (!this.onHold || this.active.length > 0 || this.waiters.length === 0) return;
    const now = Date.now();
    if (now - this.heldNoticeAt >= HOLD_NOTICE_MS) {
      this.heldNoticeAt = now;
      this.onHold(this.service);
    }
    if (this.heldTimer) return;
    this.heldTimer = setTimeout(() => {
      this.heldTimer = undefined;
      this.heldNoticeAt = 0;
      this.tellHeld();
    }, HOLD_NOTICE_MS);
    this.heldTimer.unref();
  }

  private wake(): void {
    if (this.active.length > 0) this.heldNoticeAt = 0;
    if (this.waiters.length === 0 || this.active.length === 0) return;
    const ws = this.waiters.splice(0);
    for (const w of ws) {
      clearTimeout(w.timer);
      w.cb(this.pick(null, null));
    }
  }

  /** Drop every held request (proxy closing). */
  cancelWaiters(): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.cb(undefined);
    }
  }

  /** Close keep-alive upstream sockets idle longer than `maxIdleMs`. */
  sweepIdle(maxIdleMs: number): void {
    const limit = Date.now() - maxIdleMs;
    for (const m of this.members.values()) {
      if (m.idle.length && m.idle[0]!.idleSince < limit) {
        const keep = m.idle.filter((c) => c.idleSince >= limit);
        for (const c of m.idle) if (c.idleSince < limit) c.destroy();
        m.idle.length = 0;
        m.idle.push(...keep);
      }
    }
  }
}

/** Rendezvous (highest random weight) hashing: stable, and only keys of a leaving member move. */
function rendezvous(c: Member[], key: string): Member {
  let best = c[0]!;
  let bestScore = -1;
  for (const m of c) {
    const s = fnv1a(key, fnv1a(m.id, 0x811c9dc5));
    if (s > bestScore) {
      bestScore = s;
      best = m;
    }
  }
  return best;
}

function fnv1a(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche so similar ids do not yield correlated scores
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}
