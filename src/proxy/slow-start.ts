// Slow start of a pool's members: a member that joins next to members already serving gets one
// request first, then a share of the picks that ramps up over a window, and is set aside when its
// first answer is late — so a cold or stuck replica does not take a full share at once.
import type { Member } from './member.ts';

/** The smallest share a member in slow start gets. */
const MIN_RAMP = 0.1;
/** How long a member in slow start may take to begin its first answer before it is set aside. */
export const FIRST_ANSWER_MS = 1000;
/** The same within the slow-start window (the member joined while the pool serves) for a request
 * that can be sent to another replica (idempotent, body in hand): while 100 replicas boot, the
 * longest serving gaps were such first requests of cold replicas (60–200 ms, traced in
 * docs/PERFORMANCE.md), and a serving replica answers it sooner. */
export const FIRST_ANSWER_RESENDABLE_MS = 40;

export class SlowStart {
  /** Until this time some member is still in slow start (0: none). */
  private rampingUntil = 0;

  /** `windowMs`: how long a new member's share takes to ramp up to full (0: slow start off). */
  constructor(private readonly windowMs: number) {}

  /** A new member `m` joins next to `active`. Slow start only ramps a member up next to one that
   * already serves at full share (past its own ramp, and has answered): members of a pool that is
   * starting take their share at once. */
  joined(m: Member, active: readonly Member[]): void {
    if (this.windowMs > 0 && active.some((a) => a.answered() && m.since - a.since >= this.windowMs))
      this.rampingUntil = Math.max(this.rampingUntil, m.since + this.windowMs);
    else m.since = 0;
  }

  /** Whether some member is still in slow start at `now` (once none is, until the next joins,
   * picks skip the ramp). */
  ramping(now: number): boolean {
    if (this.rampingUntil === 0) return false;
    if (now < this.rampingUntil) return true;
    this.rampingUntil = 0;
    return false;
  }

  /** How long the first answer of `m` is awaited before it is set aside: only for a member
   * in slow start that has not answered, next to members that serve (else undefined: there is
   * nobody better to send the request to). At least FIRST_ANSWER_MS (FIRST_ANSWER_RESENDABLE_MS
   * within the window when the request can be sent to another replica), and 4 times the mean
   * time the serving members take, so a service that is slow by nature is not mistaken for a
   * replica that is stuck. */
  firstAnswerMs(m: Member, active: readonly Member[], resendable: boolean): number | undefined {
    if (this.windowMs === 0 || m.since === 0 || m.answered()) return undefined;
    const now = Date.now();
    let slowest = -1;
    for (const a of active) {
      if (a === m || a.ejectedUntil > now || !a.answered()) continue;
      const c = a.counters;
      slowest = Math.max(slowest, c.requests > 0 ? c.latencySumMs / c.requests : 0);
    }
    const early = resendable && now - m.since < this.windowMs;
    const floor = early ? FIRST_ANSWER_RESENDABLE_MS : FIRST_ANSWER_MS;
    return slowest < 0 ? undefined : Math.max(floor, 4 * slowest);
  }

  /** `m` was set aside until `back`: its slow start begins again then (one request first). */
  restart(m: Member, back: number): void {
    m.since = back;
    m.fresh = true;
    this.rampingUntil = Math.max(this.rampingUntil, back + this.windowMs);
  }

  /** Smooth weighted round robin (nginx's), or with `byLoad` (least_conn/p2c) the fewest
   * in-flight requests per unit of weight. Undefined when every candidate has weight 0: the
   * caller still picks one of them rather than none. */
  pick(cands: readonly Member[], now: number, byLoad: boolean): Member | undefined {
    let total = 0;
    let best: Member | undefined;
    let bestKey = -Infinity;
    for (const m of cands) {
      if (m.fresh && m.since !== 0 && now - m.since < this.windowMs) {
        m.fresh = false;
        return m;
      }
      const w = this.weight(m, now);
      if (w === 0) continue;
      total += w;
      m.score += w;
      const key = byLoad ? -(m.inFlight + 1) / w : m.score;
      if (key > bestKey) {
        bestKey = key;
        best = m;
      }
    }
    if (best) best.score -= total;
    return best;
  }

  /** A member's share while some member ramps up: 0 while its first request is unanswered (it
   * gets one at a time, so a replica that is slow to answer holds one request, not a stream of
   * them), then growing linearly from MIN_RAMP to 1 over the slow-start window. */
  private weight(m: Member, now: number): number {
    if (m.since === 0) return 1;
    if (!m.answered() && m.inFlight > 0) return 0;
    const w = (now - m.since) / this.windowMs;
    if (w >= 1) {
      m.since = 0;
      return 1;
    }
    return Math.max(MIN_RAMP, w);
  }
}
