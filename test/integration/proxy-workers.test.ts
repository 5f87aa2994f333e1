// x-herd.proxy.workers: a proxy process group (a primary holding the sockets, workers accepting
// on them), fed membership, drains and counters over its control socket. Real processes,
// sockets and HTTP.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import { createProxy } from '../../src/proxy/index.ts';
import type { Proxy } from '../../src/proxy/index.ts';
import { readProxySettings } from '../../src/proxy/settings.ts';
import { HerdError } from '../../src/util/errors.ts';
import {
  freePort,
  httpBackend,
  makeProject,
  makeService,
  port,
  replica,
} from '../helpers/backends.ts';
import type { Backend } from '../helpers/backends.ts';
import { pidAlive } from '../helpers/wait.ts';

/** Local TCP ports of the sockets process `pid` holds (from /proc). */
function socketPorts(pid: number): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // fd closed meanwhile
    }
  }
  const ports = new Set<number>();
  for (const line of readFileSync('/proc/net/tcp', 'latin1').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 9 && inodes.has(f[9]!)) ports.add(parseInt(f[1]!.split(':')[1]!, 16));
  }
  return ports;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** GET / on a fresh connection: status, body and the backend-side port of the upstream socket. */
function get(p: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: p, path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

describe('proxy workers', () => {
  let a: Backend;
  let b: Backend;
  let proxy: Proxy;
  let lp: number;
  const upstreamPorts: number[] = [];

  before(async () => {
    const seen = (name: string): Promise<Backend> =>
      httpBackend(name, (req, res) => {
        upstreamPorts.push(req.socket.remotePort!);
        res.end(name);
      });
    a = await seen('a');
    b = await seen('b');
    lp = await freePort();
    // http: the sniffing timeout would otherwise expire while this process is blocked below
    const svc = makeService('web', { ports: [port(lp, 80, { appProtocol: 'http' })] });
    proxy = createProxy(
      { ...makeProject([svc]), herd: { extra: { proxy: { workers: 2 } } } },
      {
        limits: { holdMs: 2000 },
      },
    );
    await proxy.listen();
    proxy.replicaReady(replica('web', 1, a.port));
    proxy.replicaReady(replica('web', 2, b.port));
  });

  after(async () => {
    await proxy.close();
    await a.close();
    await b.close();
  });

  it('serves from `workers` processes of its own, never from this one or the primary', async () => {
    const pids = proxy.workerPids();
    assert.equal(pids.length, 2);
    for (const pid of pids) assert.ok(pidAlive(pid));
    const primary = proxy.primaryPid()!;
    assert.ok(pidAlive(primary) && !pids.includes(primary) && primary !== process.pid);
    // The membership reached the workers (it goes through the primary) before it is stopped.
    const seen = new Set<string>();
    const deadline0 = Date.now() + 10_000;
    while (seen.size < 2 && Date.now() < deadline0) seen.add((await get(lp)).body);
    assert.deepEqual([...seen].sort(), ['a', 'b']);
    // The primary only holds the sockets: stopped, it delays nothing. Queue connections in the
    // kernel while this process cannot run either (its loop is blocked): the workers answer them.
    process.kill(primary, 'SIGSTOP');
    const socks: net.Socket[] = [];
    try {
      for (let i = 0; i < 10; i++) socks.push(net.connect(lp, '127.0.0.1'));
      await new Promise((r) => setImmediate(r));
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 700);
      const before = upstreamPorts.length;
      const answers = await Promise.all(
        socks.map(
          (s) =>
            new Promise<string>((resolve, reject) => {
              let got = '';
              s.on('data', (d: Buffer) => {
                got += d.toString();
                if (/\r\n\r\n[ab]$/.test(got)) {
                  s.destroy();
                  resolve(got);
                }
              });
              s.setTimeout(10_000, () => s.destroy());
              s.on('close', () => resolve(got));
              s.on('error', reject);
              s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
            }),
        ),
      );
      for (const r of answers) assert.match(r, /^HTTP\/1\.1 200 /);
      const served = upstreamPorts.slice(before);
      const byWorker = pids.map((pid) => socketPorts(pid));
      assert.ok(
        served.every((p) => byWorker.some((ports) => ports.has(p))),
        "every upstream connection is a worker's",
      );
      assert.equal(socketPorts(primary).size > 0, true, 'the primary holds the listening socket');
    } finally {
      process.kill(primary, 'SIGCONT');
    }
    // Counters of both workers add up (workers report every 250 ms, the primary passes them on).
    const total = (): number => proxy.stats().reduce((n, s) => n + s.requests, 0);
    const deadline = Date.now() + 3000;
    while (total() < upstreamPorts.length && Date.now() < deadline) await sleep(100);
    assert.equal(total(), upstreamPorts.length);
    const asked = await proxy.counters();
    assert.equal(
      asked.reduce((n, s) => n + s.requests, 0),
      upstreamPorts.length,
    );
  });

  it('drain and unready reach the workers: the replica gets no new request from any process', async () => {
    await proxy.drain(replica('web', 2, b.port), 2000);
    const hitsB = b.hits;
    const bodies = await Promise.all(Array.from({ length: 30 }, () => get(lp)));
    for (const r of bodies) assert.deepEqual(r, { status: 200, body: 'a' });
    assert.equal(b.hits, hitsB);
    proxy.replicaReady(replica('web', 2, b.port));
    await sleep(300); // IPC to the worker
    const again = await Promise.all(Array.from({ length: 30 }, () => get(lp)));
    assert.ok(again.some((r) => r.body === 'b'));
  });

  it('replaces a worker that dies, and close() stops every worker', async () => {
    const [old, other] = proxy.workerPids();
    process.kill(old!, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    const replaced = (): boolean =>
      proxy.workerPids().length === 2 && !proxy.workerPids().includes(old!);
    while (Date.now() < deadline && !replaced()) await sleep(100);
    assert.ok(replaced(), 'a new worker was started');
    assert.ok(proxy.workerPids().includes(other!));
    const ok = await Promise.all(Array.from({ length: 20 }, () => get(lp)));
    for (const r of ok) assert.equal(r.status, 200);
    const all = [...proxy.workerPids(), proxy.primaryPid()!];
    await proxy.close();
    for (const pid of all) assert.equal(pidAlive(pid), false);
    await assert.rejects(get(lp), /ECONNREFUSED/);
  });
});

describe('x-herd.proxy settings', () => {
  const project = (proxy: unknown) => ({
    ...makeProject([makeService('web')]),
    herd: { extra: { proxy } },
  });

  it('defaults to one process and reads workers', () => {
    assert.deepEqual(readProxySettings(makeProject([makeService('web')])), { workers: 1 });
    assert.deepEqual(readProxySettings(project({ workers: 3 })), { workers: 3 });
  });

  it('rejects bad values with an error naming the key', () => {
    for (const bad of [0, -1, 1.5, '2', 100]) {
      assert.throws(
        () => readProxySettings(project({ workers: bad })),
        (e: unknown) =>
          e instanceof HerdError &&
          /x-herd\.proxy\.workers: expected a whole number from 1 to 32/.test(e.message),
      );
    }
    assert.throws(
      () => readProxySettings(project({ threads: 2 })),
      /x-herd\.proxy: unknown key "threads"/,
    );
    assert.throws(() => readProxySettings(project([2])), /x-herd\.proxy: expected a mapping/);
    assert.throws(() => createProxy(project({ workers: 'many' })), HerdError);
  });
});
