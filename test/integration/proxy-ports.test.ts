// Which listeners a compose file's ports/expose produce, and how they follow engine events.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { createProxy } from '../../src/proxy/index.ts';
import type { Drainer, EngineEvent } from '../../src/engine/events.ts';
import { HerdError } from '../../src/util/errors.ts';
import { Engine } from '../../src/engine/engine.ts';
import { processRuntime } from '../../src/runtime/process/process-runtime.ts';
import { parseScale } from '../../src/cli/up/options.ts';
import {
  freePort,
  get,
  httpBackend,
  makeProject,
  makeService,
  port,
  replica,
} from '../helpers/backends.ts';

function isFree(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('proxy: ports', () => {
  it('a port already in use is a HerdError naming the service and port; nothing stays bound', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const busy = (taken.address() as net.AddressInfo).port;
    const okPort = await freePort();
    const proxy = createProxy(
      makeProject([
        makeService('api', { ports: [port(okPort, 80)] }),
        makeService('web', { ports: [port(busy, 80)] }),
      ]),
    );
    await assert.rejects(proxy.listen(), (err: Error) => {
      assert.ok(err instanceof HerdError);
      assert.match(err.message, /service "web"/);
      assert.match(err.message, new RegExp(`port ${busy} is already in use`));
      return true;
    });
    // the first listener was released again
    const again = net.createServer();
    await new Promise<void>((r, j) => again.once('error', j).listen(okPort, '127.0.0.1', r));
    again.close();
    taken.close();
  });

  it('a published range maps host port k to replica k, one to one', async () => {
    let base = 0;
    for (let tries = 0; tries < 20 && base === 0; tries++) {
      const cand = await freePort();
      if (await isFree(cand + 1)) base = cand;
    }
    assert.ok(base > 0, 'found no two consecutive free ports');
    const [a, b] = [base, base + 1];
    const svc = makeService('web', { scale: 2, ports: [port([a, b], 80)] });
    const proxy = createProxy(makeProject([svc]), { limits: { holdMs: 100 } });
    await proxy.listen();
    const r1 = await httpBackend('one');
    const r2 = await httpBackend('two');
    proxy.replicaReady(replica('web', 1, r1.port, 80));
    proxy.replicaReady(replica('web', 2, r2.port, 80));
    for (let i = 0; i < 3; i++) {
      assert.equal((await get(a)).body, 'one');
      assert.equal((await get(b)).body, 'two');
    }
    assert.deepEqual(
      proxy.ports().map((m) => [m.kind, m.index, m.hostPort]),
      [
        ['direct', 1, a],
        ['direct', 2, b],
      ],
    );
    assert.deepEqual(proxy.serviceAddresses(), {});
    await proxy.close();
    await r1.close();
    await r2.close();
  });

  it('more replicas than the published range holds is a clear HerdError', async () => {
    const svc = makeService('web', { scale: 3, ports: [port([18080, 18081], 80)] });
    await assert.rejects(
      createProxy(makeProject([svc])).listen(),
      /scale 3 needs 3 host ports.*18080-18081/,
    );
  });

  it('scaling past the range later is refused too: engine.setScale and up --scale', () => {
    const svc = makeService('web', { scale: 2, ports: [port([18080, 18081], 80)] });
    const project = makeProject([svc]);
    const engine = new Engine(project, { runtime: processRuntime });
    assert.throws(() => engine.setScale('web', 3), /scale 3 needs 3 host ports.*18080-18081/);
    engine.setScale('web', 1);
    assert.throws(() => parseScale(['web=3'], project), /scale 3 needs 3 host ports/);
    assert.deepEqual(parseScale(['web=2'], project), { web: 2 });
    const free = makeProject([makeService('api', { command: ['true'] })]);
    assert.throws(
      () => new Engine(free, { runtime: processRuntime }).setScale('api', 1001),
      /scale 1001 is over herd's limit of 1000 replicas per service/,
    );
    assert.throws(() => parseScale(['api=5000'], free), /over herd's limit/);
  });

  it('no published port: each replica gets its own ephemeral host port', async () => {
    const svc = makeService('web', { scale: 2, ports: [port(undefined, 5000)] });
    const proxy = createProxy(makeProject([svc]));
    await proxy.listen();
    const r1 = await httpBackend('one');
    const r2 = await httpBackend('two');
    proxy.replicaReady(replica('web', 1, r1.port, 5000));
    proxy.replicaReady(replica('web', 2, r2.port, 5000));
    const maps = proxy.ports();
    assert.equal(maps.length, 2);
    // On the host IP the file names ("127.0.0.1::5000"); without one, every interface, as Compose.
    assert.ok(maps.every((m) => m.kind === 'direct' && m.hostIp === '127.0.0.1' && m.hostPort > 0));
    assert.equal((await get(maps[0]!.hostPort)).body, 'one');
    assert.equal((await get(maps[1]!.hostPort)).body, 'two');
    // a third replica (scaled up later) gets a port of its own too
    const r3 = await httpBackend('three');
    proxy.replicaReady(replica('web', 3, r3.port, 5000));
    await new Promise((r) => setTimeout(r, 50));
    const third = proxy.ports().find((m) => m.index === 3);
    assert.ok(third);
    assert.equal(third.hostIp, '127.0.0.1');
    assert.equal((await get(third.hostPort)).body, 'three');
    await proxy.close();
    await Promise.all([r1, r2, r3].map((r) => r.close()));
  });

  it('"5000" without a host IP is published on every interface, as Compose does', async () => {
    const svc = makeService('web', {
      scale: 1,
      ports: [port(undefined, 5000, { hostIp: undefined })],
    });
    const proxy = createProxy(makeProject([svc]));
    await proxy.listen();
    assert.deepEqual(
      proxy.ports().map((m) => m.hostIp),
      ['0.0.0.0'],
    );
    await proxy.close();
  });

  it('a re-applied file may change the settings of a port it keeps (host IP, balancing)', async () => {
    const pub = await freePort();
    const b = await httpBackend('one');
    const proxy = createProxy(
      makeProject([makeService('web', { ports: [port(pub, 80, { hostIp: '0.0.0.0' })] })]),
    );
    await proxy.listen();
    proxy.replicaReady(replica('web', 1, b.port, 80));
    assert.equal((await get(pub)).body, 'one');
    const changed = makeService('web', { ports: [port(pub, 80)] }); // now 127.0.0.1 only
    changed.herd.lb = { algorithm: 'least_conn' };
    const finish = await proxy.apply(makeProject([changed]));
    await finish();
    assert.deepEqual(
      proxy.ports().map((m) => `${m.hostIp}:${m.hostPort}`),
      [`127.0.0.1:${pub}`],
    );
    // The replica that was ready serves through the new listener at once.
    assert.equal((await get(pub)).body, 'one');
    await proxy.close();
    await b.close();
  });

  it('expose: an internal balancer on 127.0.0.1 reported by serviceAddresses()', async () => {
    const pub = await freePort();
    const proxy = createProxy(
      makeProject([
        makeService('api', { expose: [{ port: 5000, protocol: 'tcp' }] }),
        makeService('web', { ports: [port(pub, 80)] }),
      ]),
    );
    await proxy.listen();
    const addrs = proxy.serviceAddresses();
    assert.equal(addrs.web?.port, pub);
    assert.equal(addrs.api?.host, '127.0.0.1');
    const b = await httpBackend('api1');
    proxy.replicaReady(replica('api', 1, b.port, 5000));
    assert.equal((await get(addrs.api!.port)).body, 'api1');
    await proxy.close();
    await b.close();
  });

  it('UDP ports are not balanced, with a clear warning', async () => {
    const warnings: string[] = [];
    const proxy = createProxy(
      makeProject([makeService('dns', { ports: [port(5353, 53, { protocol: 'udp' })] })]),
      {
        warn: (m) => warnings.push(m),
      },
    );
    await proxy.listen();
    assert.equal(proxy.ports().length, 0);
    assert.match(warnings[0] ?? '', /service "dns": UDP port 5353:53 is not load-balanced/);
    await proxy.close();
  });
});

describe('proxy: attached to an engine', () => {
  it('follows ready/unready events and registers its drainer', async () => {
    const p = await freePort();
    const proxy = createProxy(makeProject([makeService('web', { ports: [port(p, 80)] })]), {
      limits: { holdMs: 100 },
    });
    await proxy.listen();
    const events = new EventEmitter();
    let drainer: Drainer | undefined;
    proxy.attach({ on: (ev, fn) => events.on(ev, fn), setDrainer: (d) => (drainer = d) });
    assert.equal(typeof drainer, 'function');
    const b = await httpBackend('r1');
    const info = replica('web', 1, b.port, 80);
    events.emit('event', { type: 'ready', at: Date.now(), replica: info } satisfies EngineEvent);
    assert.equal((await get(p)).body, 'r1');
    events.emit('event', {
      type: 'unready',
      at: Date.now(),
      replica: info,
      reason: 'unhealthy',
    } satisfies EngineEvent);
    assert.equal((await get(p)).status, 503);
    events.emit('event', { type: 'ready', at: Date.now(), replica: info } satisfies EngineEvent);
    assert.equal((await get(p)).status, 200);
    await drainer!(info, 1000);
    assert.equal((await get(p)).status, 503);
    await proxy.close();
    await b.close();
  });
});
