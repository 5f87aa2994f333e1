// A balancer alone in a process of its own, for tests that need its own limits (run it under
// `prlimit --nofile=N:N`): one service published on argv[2], its one replica at argv[3].
// Prints "ready" once listening; process warnings go to stderr as usual.
import { createProxy } from '../../src/proxy/index.ts';
import { makeProject, makeService, port, replica } from './backends.ts';

const [listen, backend] = process.argv.slice(2).map(Number);
const proxy = createProxy(makeProject([makeService('web', { ports: [port(listen!, 80)] })]));
await proxy.listen();
proxy.replicaReady(replica('web', 1, backend!, 80));
process.stdout.write('ready\n');
process.on('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
