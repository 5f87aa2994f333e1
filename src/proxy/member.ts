// One upstream of a listener's pool and its state: in-flight count, outlier ejection, draining,
// idle keep-alive sockets, and where it stands in slow start.
import type { Socket } from 'node:net';
import type { ReplicaCounters } from './counters.ts';

/** An upstream socket parked for reuse; the http module owns its behaviour. */
export interface IdleConn {
  readonly sock: Socket;
  idleSince: number;
  destroy(): void;
}

export class Member {
  inFlight = 0;
  consecutiveFailures = 0;
  ejectedUntil = 0;
  draining = false;
  removed = false;
  readonly idle: IdleConn[] = [];
  /** Waiters for inFlight reaching 0 (drain). */
  zeroWaiters: (() => void)[] = [];
  /** When it joined the pool: its share ramps up from here (slow start). */
  since = Date.now();
  /** Answered requests it had when it joined; until it answers one more it is on probation. */
  private readonly answeredAtJoin: number;
  private proven = false;
  /** Smooth weighted round robin's running score (only while a member ramps up). */
  score = 0;
  /** Not picked yet: while members ramp up, a new one gets one request first, so it is proven
   * (or set aside) at once instead of after its turn comes round. */
  fresh = true;

  constructor(
    readonly id: string,
    readonly host: string,
    readonly port: number,
    readonly counters: ReplicaCounters,
  ) {
    this.answeredAtJoin = counters.requests - counters.errors;
  }

  /** Whether it has answered a request since it joined. */
  answered(): boolean {
    if (!this.proven)
      this.proven = this.counters.requests - this.counters.errors > this.answeredAtJoin;
    return this.proven;
  }

  closeIdle(): void {
    for (const c of this.idle.splice(0)) c.destroy();
  }

  /** Called whenever inFlight goes down. */
  settled(): void {
    if (this.inFlight === 0 && this.zeroWaiters.length) {
      for (const w of this.zeroWaiters.splice(0)) w();
    }
  }
}
