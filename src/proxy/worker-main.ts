// Entry point of a proxy worker process: serves the listening sockets herd's main process hands
// over, with the membership the main process sends; reports per-replica counters back.
import type net from 'node:net';
import { Balancer } from './balancer.ts';
import { ReplicaCounters } from './counters.ts';
import { ProxyListener } from './listener.ts';
import type { FromWorker, ToWorker } from './worker-protocol.ts';
import { drainMembers } from './drain.ts';

type Init = Extract<ToWorker, { t: 'init' }>;

let init: Init | null = null;
const balancers: Balancer[] = [];
const listeners: ProxyListener[] = [];
const counters = new Map<string, ReplicaCounters>();
let lastSent = '';

function send(m: FromWorker): void {
  if (process.connected) process.send!(m);
}

function countersFor(id: string, service: string): ReplicaCounters {
  let c = counters.get(id);
  if (!c) {
    c = new ReplicaCounters(id, service);
    counters.set(id, c);
  }
  return c;
}

/** Push counters when they moved, so the main process's stats() is at most ~250 ms behind. */
const reporter = setInterval(() => {
  const stats = [...counters.values()].map((c) => c.snapshot());
  const key = JSON.stringify(stats);
  if (key === lastSent) return;
  lastSent = key;
  send({ t: 'stats', stats });
}, 250);

function onMessage(m: ToWorker, handle: unknown): void {
  switch (m.t) {
    case 'init':
      init = m;
      for (const e of m.entries) balancers.push(new Balancer({ service: e.service, lb: e.lb }));
      setInterval(
        () => {
          for (const b of balancers) b.sweepIdle(m.upstreamIdleMs);
        },
        Math.max(250, Math.floor(m.upstreamIdleMs / 4)),
      ).unref();
      return;
    case 'listen': {
      if (!init) return;
      const spec = init.entries[m.entry]!;
      const server = handle as net.Server;
      listeners[m.entry] = new ProxyListener(
        {
          host: '',
          port: 0,
          mode: spec.mode,
          balancer: balancers[m.entry]!,
          limits: init.limits,
          sniffMs: init.sniffMs,
        },
        server,
      );
      if (listeners.filter(Boolean).length === init.entries.length) send({ t: 'ready' });
      return;
    }
    case 'add':
      balancers[m.entry]?.add(m.id, m.host, m.port, countersFor(m.id, m.service));
      return;
    case 'remove':
      for (let i = 0; i < balancers.length; i++)
        if (init?.entries[i]!.service === m.service) balancers[i]!.remove(m.id);
      return;
    case 'drain': {
      const members = balancers
        .filter((_, i) => init?.entries[i]!.service === m.service)
        .map((b) => b.remove(m.id))
        .filter((x) => x !== undefined);
      void drainMembers(members).then(() => send({ t: 'drained', seq: m.seq }));
      return;
    }
    case 'close':
      void shutdown();
      return;
  }
}

async function shutdown(): Promise<void> {
  clearInterval(reporter);
  for (const b of balancers) {
    b.cancelWaiters();
    for (const mem of b.allMembers()) mem.closeIdle();
  }
  await Promise.all(listeners.filter(Boolean).map((l) => l.close()));
  process.exit(0);
}

process.on('message', onMessage);
send({ t: 'hello' });
// The main process is gone (or closed the channel): nothing may keep serving its ports.
process.on('disconnect', () => process.exit(0));
