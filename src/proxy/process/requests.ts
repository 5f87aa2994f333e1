// The daemon's requests to a proxy primary that wait for an answer: numbered as they are sent,
// settled by the reply with their number (checked against the shape their op expects), or all
// failed at once when the connection goes.
import type { LineChannel } from './channel.ts';
import { answerProblem, fromPrimaryProblem } from './protocol.ts';
import type { FromPrimary, Reply, Request } from './protocol.ts';

export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type Ask = DistributiveOmit<Request, 'id'>;

export class PendingRequests {
  private nextId = 0;
  private readonly pending = new Map<number, { op: Request['op']; done: (r: Reply) => void }>();

  /** Sends `m` on `ch` (none: answered at once as failed) and resolves with its reply. */
  send(ch: LineChannel<object> | null, m: Ask): Promise<Reply> {
    if (!ch) return Promise.resolve({ id: -1, ok: false, error: 'no proxy process' });
    const id = ++this.nextId;
    return new Promise((done) => {
      this.pending.set(id, { op: m.op, done });
      ch.send({ ...m, id });
    });
  }

  /** As send, but a refusal throws its error (with the primary's code). */
  async must(ch: LineChannel<object> | null, m: Ask): Promise<Reply> {
    const r = await this.send(ch, m);
    if (!r.ok) throw Object.assign(new Error(r.error ?? 'proxy request failed'), { code: r.code });
    return r;
  }

  /** As send, but null when no reply came within `ms` (a stopped or busy proxy). */
  async sendWithin(ch: LineChannel<object> | null, m: Ask, ms: number): Promise<Reply | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(resolve, ms, null)));
    const r = await Promise.race([this.send(ch, m), late]);
    clearTimeout(timer);
    return r;
  }

  /** Settles the request a reply answers. */
  answer(m: Reply): void {
    const asked = this.pending.get(m.id);
    this.pending.delete(m.id);
    asked?.done(m);
  }

  /** Every request still waiting fails with `error` (the connection went away). */
  failAll(error: string): void {
    for (const [id, { done }] of this.pending) {
      this.pending.delete(id);
      done({ id, ok: false, error });
    }
  }

  /** `raw` as a message herd understands, or the problem with it; a request it answers then
   * fails with `why(problem)`. */
  check(raw: object, why: (problem: string) => string): FromPrimary | { problem: string } {
    const id = (raw as { id?: unknown }).id;
    const asked = typeof id === 'number' ? this.pending.get(id) : undefined;
    const problem =
      fromPrimaryProblem(raw) ?? (asked ? answerProblem(asked.op, raw as Reply) : undefined);
    if (!problem) return raw as FromPrimary;
    if (asked) {
      this.pending.delete(id as number);
      asked.done({ id: id as number, ok: false, error: why(problem) });
    }
    return { problem };
  }
}
