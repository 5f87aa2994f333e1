// herd's balancer alone, fed fixed members (no engine): the data path the benchmarks measure.
// Usage: node --import tsx bench/herd-standalone.ts <listenPort> <backendPort>…
// HERD_BENCH_WORKERS=N sets x-herd.proxy.workers (processes serving the port).
import { createProxy } from '../src/proxy/index.ts';
import type { Service } from '../src/compose/model.ts';

const [listenPort, ...backendPorts] = process.argv.slice(2).map(Number);
const service: Service = {
  name: 'web',
  command: ['true'],
  environment: {},
  ports: [
    {
      target: 80,
      published: { start: listenPort!, end: listenPort! },
      hostIp: '127.0.0.1',
      protocol: 'tcp',
      appProtocol: process.env.HERD_BENCH_PROTO,
    },
  ],
  expose: [],
  scale: backendPorts.length,
  restart: { condition: 'no' },
  dependsOn: {},
  stopSignal: 'SIGTERM',
  stopGracePeriodMs: 10_000,
  resources: { limits: {}, reservations: {} },
  profiles: [],
  labels: {},
  volumes: [],
  herd: {
    lb: { algorithm: (process.env.HERD_BENCH_LB as 'round_robin' | undefined) ?? 'round_robin' },
    healUnhealthy: true,
    extra: {},
  },
};
const proxy = createProxy({
  name: 'bench',
  workingDir: process.cwd(),
  composeFiles: [],
  services: { web: service },
  volumes: {},
  herd: {
    extra: process.env.HERD_BENCH_WORKERS
      ? { proxy: { workers: Number(process.env.HERD_BENCH_WORKERS) } }
      : {},
  },
  warnings: [],
});
await proxy.listen();
backendPorts.forEach((port, i) =>
  proxy.replicaReady({
    service: 'web',
    index: i + 1,
    name: `bench-web-${i + 1}`,
    state: 'running',
    health: 'none',
    host: '127.0.0.1',
    port,
    ports: {},
    restarts: 0,
  }),
);
process.stdout.write('ready\n');
process.on('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
