// The proxy process group the daemon uses: a primary in a session of its own holding the sockets
// and a 0600 control socket, a worker serving; the routing table survives a lost control
// connection and is resynced whole when the daemon's side reconnects. Real processes, sockets
// and HTTP.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createProxy } from '../../src/proxy/index.ts';
import type { Proxy } from '../../src/proxy/index.ts';
import {
  freePort,
  get,
  httpBackend,
  makeProject,
  makeService,
  port,
  replica,
} from '../helpers/backends.ts';
import type { Backend } from '../helpers/backends.ts';
import { pidAlive } from '../helpers/wait.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Fields 5 and 6 of /proc/<pid>/stat: process group and session. */
function groupOf(pid: number): { pgrp: number; session: number } {
  const rest = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
  return { pgrp: Number(rest[2]), session: Number(rest[3]) };
}

async function until(what: string, ok: () => Promise<boolean> | boolean, ms = 5000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await ok()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}`);
}

const answers = (p: number): Promise<boolean> =>
  get(p).then(
    (r) => r.status === 200,
    () => false,
  );

describe('proxy process group', () => {
  let dir: string;
  let a: Backend;
  let proxy: Proxy;
  let lp: number;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'herd-pp-'));
    a = await httpBackend('a');
    lp = await freePort();
    const svc = makeService('web', { ports: [port(lp, 80, { appProtocol: 'http' })] });
    proxy = createProxy(makeProject([svc]), { process: { dir } });
    await proxy.listen();
    proxy.replicaReady(replica('web', 1, a.port));
  });

  after(async () => {
    await proxy.close();
    await a.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs in a session of its own, with a control socket only its user can use', async () => {
    const primary = proxy.primaryPid()!;
    assert.ok(primary !== process.pid && pidAlive(primary));
    assert.deepEqual(groupOf(primary), { pgrp: primary, session: primary });
    const [worker] = proxy.workerPids();
    assert.equal(proxy.workerPids().length, 1);
    assert.equal(groupOf(worker!).pgrp, primary);
    assert.equal(statSync(path.join(dir, 'proxy.sock')).mode & 0o777, 0o600);
    await until('the worker serves', () => answers(lp));
    const stats = await proxy.counters();
    assert.equal(stats.length, 1);
    assert.equal(stats[0]!.replica, 't-web-1');
    assert.ok(stats[0]!.requests >= 1);
    assert.equal(stats[0]!.latencyBuckets.length, 13);
  });

  it('keeps its table when the control connection is lost, and takes a whole snapshot back', async () => {
    // Another client takes the control socket over (as a daemon started afresh would) and sends
    // an empty table: the port closes. The proxy's owner reconnects and resyncs its own table.
    const rogue = net.connect(path.join(dir, 'proxy.sock'));
    await new Promise((r) => rogue.once('connect', r));
    rogue.write(
      JSON.stringify({ id: 1, op: 'snapshot', table: { listeners: [], endpoints: [] } }) + '\n',
    );
    let reply = '';
    rogue.on('data', (d: Buffer) => (reply += d.toString()));
    rogue.on('error', () => {});
    await until('the empty table applied', () => /"id":1,"ok":true/.test(reply));
    assert.equal(await answers(lp), false);
    await until('the owner resynced: the port answers again', () => answers(lp));
    await until('the rogue connection dropped', () => rogue.destroyed || rogue.readableEnded);
    for (let i = 0; i < 5; i++) assert.equal((await get(lp)).body, 'a');
    rogue.destroy();
  });

  it('follows a re-applied file: a kept port with new settings, a new port', async () => {
    const extra = await freePort();
    const changed = makeService('web', {
      ports: [port(lp, 80, { appProtocol: 'http', hostIp: '127.0.0.1' }), port(extra, 80)],
    });
    changed.herd.lb = { algorithm: 'least_conn' };
    const finish = await proxy.apply(makeProject([changed]));
    await finish();
    assert.deepEqual(
      proxy.ports().map((m) => `${m.hostIp}:${m.hostPort}`),
      [`127.0.0.1:${lp}`, `127.0.0.1:${extra}`],
    );
    // The replica that was ready serves through both listeners at once.
    assert.equal((await get(lp)).body, 'a');
    assert.equal((await get(extra)).body, 'a');
  });

  it('close() ends the primary and its workers and removes the control socket', async () => {
    const pids = [proxy.primaryPid()!, ...proxy.workerPids()];
    await proxy.close();
    for (const pid of pids) assert.equal(pidAlive(pid), false);
    assert.equal(existsSync(path.join(dir, 'proxy.sock')), false);
    assert.equal(await answers(lp), false);
  });
});
