// A rolling restart behind herd's real balancer: clients of the service's stable address see no
// failed request while every replica is replaced (successor in the pool first, old one drained).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.ts';
import { createProxy } from '../../src/proxy/index.ts';
import { acceptsConnections } from '../../src/engine/listening.ts';
import { processRuntime } from '../../src/runtime/process/process-runtime.ts';
import { makeProject, makeService, nodeEval } from '../helpers/project.ts';
import { waitUntil } from '../helpers/wait.ts';

// Each answer takes 30 ms, so requests are in flight whenever a replica is drained; SIGTERM
// ends the process at once, so a request still running then would fail.
const APP = `
require('http').createServer((q, s) => setTimeout(() => s.end(process.pid + '\\n'), 30))
  .listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

test('restartServices behind the balancer: no request fails, every generation answers', async () => {
  const project = makeProject([
    makeService('web', {
      command: nodeEval(APP),
      scale: 3,
      restart: { condition: 'unless-stopped' },
      expose: [{ port: 5000, protocol: 'tcp' }],
    }),
  ]);
  const proxy = createProxy(project);
  await proxy.listen();
  const engine = new Engine(project, {
    runtime: processRuntime,
    serviceAddresses: () => proxy.serviceAddresses(),
  });
  proxy.attach(engine);
  const addr = proxy.serviceAddresses().web!;
  assert.equal(addr.host, '127.0.0.1');
  const url = `http://${addr.host}:${addr.port}/`;
  try {
    await engine.up();
    // Warm up once every replica listens (running is not listening yet).
    for (const r of engine.replicas()) {
      await waitUntil(`${r.name} listens`, () => acceptsConnections('127.0.0.1', r.port!));
    }
    const before = new Set(engine.replicas().map((r) => String(r.pid)));
    const seen = new Set<string>();
    const failures: string[] = [];
    let ok = 0;
    let done = false;
    const deadline = Date.now() + 20_000; // bounded load, whatever happens
    const client = async () => {
      while (!done && Date.now() < deadline) {
        try {
          const res = await fetch(url);
          const body = (await res.text()).trim();
          if (res.status !== 200) failures.push(`${res.status} ${body}`);
          else {
            ok++;
            seen.add(body);
          }
        } catch (err) {
          failures.push(String((err as Error).cause ?? err));
        }
      }
    };
    const clients = [client(), client(), client(), client()];
    await new Promise((r) => setTimeout(r, 200));
    await engine.restartServices(['web']);
    await new Promise((r) => setTimeout(r, 200));
    done = true;
    await Promise.all(clients);
    const after = engine.replicas().map((r) => String(r.pid));
    assert.deepEqual(failures, []);
    assert.ok(ok > 50, `only ${ok} requests`);
    assert.ok(after.every((p) => !before.has(p)));
    assert.ok(
      after.every((p) => seen.has(p)),
      'every new replica served',
    );
    assert.ok(
      [...before].some((p) => seen.has(p)),
      'old replicas served before',
    );
  } finally {
    await engine.shutdown();
    await proxy.close();
  }
});
