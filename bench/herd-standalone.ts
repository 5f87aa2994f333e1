// herd's balancer alone, fed fixed members (no engine): the data path the benchmarks measure.
// Usage: node --import tsx bench/herd-standalone.ts <listenPort> <backendPort>…
// HERD_BENCH_WORKERS=N sets x-herd.proxy.workers (processes serving the port).
import { createProxy } from '../src/proxy/index.ts';
import type { Service } from '../src/compose/model.ts';
import { defaultService } from '../src/compose/defaults.ts';

const [listenPort, ...backendPorts] = process.argv.slice(2).map(Number);
const base = defaultService('web');
const service: Service = {
  ...base,
  command: ['true'],
  ports: [
    {
      target: 80,
      published: { start: listenPort!, end: listenPort! },
      hostIp: '127.0.0.1',
      protocol: 'tcp',
      appProtocol: process.env.HERD_BENCH_PROTO,
    },
  ],
  scale: backendPorts.length,
  herd: {
    ...base.herd,
    lb: { algorithm: (process.env.HERD_BENCH_LB as 'round_robin' | undefined) ?? 'round_robin' },
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
    host: '127.0.0.1',
    port,
    ports: {},
  }),
);
process.stdout.write('ready\n');
process.on('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
