// Entry point of a proxy worker process: accepts on the listening sockets its primary hands over
// and balances them over the membership the primary sends; reports per-replica counters back.
import net from 'node:net';
import { LocalPlane } from './local-plane.ts';
import type { FromWorker, ToWorker } from './worker-protocol.ts';

let plane: LocalPlane | null = null;
let lastSent = '';

function send(m: FromWorker): void {
  if (process.connected) process.send!(m);
}

/** Push counters when they moved, so the primary is at most ~250 ms behind. */
const reporter = setInterval(() => {
  if (!plane) return;
  const stats = plane.stats();
  const key = JSON.stringify(stats);
  if (key === lastSent) return;
  lastSent = key;
  send({ t: 'stats', stats });
}, 250);

function onMessage(m: ToWorker, handle: unknown): void {
  if (m.t === 'settings') {
    plane ??= new LocalPlane(m.settings, (service) => send({ t: 'hold', service }));
    return;
  }
  if (!plane) return;
  const p = plane;
  switch (m.t) {
    case 'listen': {
      const server = net.createServer({ noDelay: true });
      server.on('error', () => {});
      server.listen(handle as object, () => {
        p.adopt(m.spec, server);
        send({ t: 'done', seq: m.seq });
      });
      return;
    }
    case 'stop':
      void p.stopAccepting(m.listener);
      return;
    case 'close':
      void p.close(m.listener);
      return;
    case 'add':
      p.add(m.endpoint);
      return;
    case 'remove':
      p.remove(m.replica, m.listeners);
      return;
    case 'drain':
      void p.drain(m.replica, m.listeners).then(() => send({ t: 'done', seq: m.seq }));
      return;
    case 'report':
      lastSent = JSON.stringify(p.stats());
      send({ t: 'stats', stats: p.stats() });
      send({ t: 'done', seq: m.seq });
      return;
    case 'exit':
      void shutdown();
      return;
  }
}

async function shutdown(): Promise<void> {
  clearInterval(reporter);
  if (!plane || !process.connected) process.exit(0);
  const stats = plane.stats();
  await plane.shutdown();
  // The final counters, so that the primary's totals include this worker's last requests.
  process.send!({ t: 'stats', stats } satisfies FromWorker, () => process.exit(0));
}

process.on('message', onMessage);
send({ t: 'hello' });
// The primary is gone: it held the sockets and the table, so nothing may keep serving them.
process.on('disconnect', () => process.exit(0));
