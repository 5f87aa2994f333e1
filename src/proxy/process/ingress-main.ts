// Entry point of a proxy primary's ingress process (forked by ingress-process.ts): serves the
// ingress config the primary sends, forwarding to the pools' listeners where the primary bound
// them (its workers accept on those).
import { IngressRunner } from '../ingress/runner.ts';
import type { FromIngress, ToIngress } from './ingress-process.ts';

process.title = 'herd-ingress';

/** Listener id → where it is bound. Ids are never reused for another listener, so entries only
 * accumulate and none ever goes stale. */
const listeners = new Map<string, { host: string; port: number }>();
const runner = new IngressRunner((id) => listeners.get(id));

function send(m: FromIngress): void {
  if (process.connected) process.send!(m);
}

process.on('message', (m: ToIngress) => {
  if (m.t === 'exit') {
    void runner.close().finally(() => process.exit(0));
    return;
  }
  for (const [id, a] of Object.entries(m.listeners)) listeners.set(id, a);
  runner.apply(m.config).then(
    () => send({ t: 'done', seq: m.seq }),
    (err: unknown) =>
      send({
        t: 'done',
        seq: m.seq,
        error: (err as Error).message,
        code: (err as { code?: string }).code,
      }),
  );
});

// The primary is gone: it held the sockets the pools accept on, so nothing may serve on alone.
process.on('disconnect', () => process.exit(0));
send({ t: 'hello' });
