// A stand-in daemon for the proxy survival tests: serves a published port through a proxy
// process group in <dir> with the given replicas ready, says `ready <primary pid>`, and stays
// until killed. Usage: node --import tsx proxy-daemon-child.ts <dir> <port> <replica port>…
import { createProxy } from '../../src/proxy/index.ts';
import { makeProject, makeService, port, replica } from './backends.ts';

const [dir = '', published = '0', ...backends] = process.argv.slice(2);
const svc = makeService('web', { ports: [port(Number(published), 80, { appProtocol: 'http' })] });
// Slow start off: the tests ask which replicas answer a dozen requests right after one is re-added,
// which a ramp (proxy-slow-start.test.ts) would make a matter of chance.
const proxy = createProxy(makeProject([svc]), { process: { dir }, slowStartMs: 0 });
await proxy.listen();
backends.forEach((p, i) => proxy.replicaReady(replica('web', i + 1, Number(p))));
// The deltas are one-way: a counters round trip proves the primary has them.
await proxy.counters();
process.stdout.write(`ready ${proxy.primaryPid()}\n`);
setInterval(() => {}, 60_000);
