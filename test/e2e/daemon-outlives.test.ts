// The stack outlives its daemon, through the herd binary: kill -9 of the daemon under load drops
// no request, its proxy starts it again, the replicas are adopted (same processes, output without
// a gap) and supervised again; a replica that died while no daemon ran is restarted as its policy
// says; with the proxy gone too, `herd up -d` adopts instead of starting a second copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readStat } from '../../src/util/process-identity.ts';
import {
  freePort,
  httpGet,
  proxyPrimaryOf,
  requestLoop,
  sandbox,
  waitFor,
  type PsRow,
  type Sandbox,
} from '../helpers/e2e.ts';
import { tempDir } from '../helpers/tmp.ts';

const APP = `
const http = require('node:http');
let n = 0;
setInterval(() => console.log('tick ' + n++), 50);
http.createServer((req, res) => res.end(process.env.HERD_REPLICA + ' ' + process.pid + '\\n'))
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

function compose(port: number): string {
  return `name: outlive
services:
  web:
    command: [node, app.js]
    ports: ["127.0.0.1:${port}:5000"]
    restart: unless-stopped
    deploy:
      replicas: 2
  once:
    command: [node, -e, "setInterval(() => {}, 1000)"]
    restart: "no"
`;
}

async function stack(): Promise<{ box: Sandbox; port: number }> {
  const root = tempDir('outlive');
  const dir = join(root, 'project');
  mkdirSync(dir);
  const port = await freePort();
  writeFileSync(join(dir, 'compose.yaml'), compose(port));
  writeFileSync(join(dir, 'app.js'), APP);
  const box = sandbox(root, dir);
  box.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
  return { box, port };
}

function daemonPid(box: Sandbox): number {
  return (
    JSON.parse(readFileSync(join(box.stateDir, 'state.json'), 'utf8')) as { daemonPid: number }
  ).daemonPid;
}

const proxyPrimary = (box: Sandbox) => proxyPrimaryOf(box.stateDir);

const running = (pid: number) => (readStat(pid)?.state ?? 'Z') !== 'Z';

/** ps rows once the daemon answers again (it may be coming back). */
async function psWhenBack(box: Sandbox): Promise<PsRow[] | undefined> {
  return box.psNow().catch(() => undefined);
}

const webPids = (rows: PsRow[]) =>
  rows
    .filter((r) => r.Service === 'web' && r.State === 'running')
    .map((r) => r.Pid!)
    .sort((a, b) => a - b);

test('kill -9 of the daemon: no request fails, it comes back by itself, adopts its replicas (output without a gap) and heals again', async () => {
  const { box, port } = await stack();
  try {
    const before = webPids(await box.psNow());
    assert.equal(before.length, 2);
    const load = requestLoop(port);
    await new Promise((r) => setTimeout(r, 300));
    const dead = daemonPid(box);
    process.kill(dead, 'SIGKILL');
    const back = await waitFor(
      'the daemon back with the same replicas',
      async () => {
        const rows = await psWhenBack(box);
        return rows && daemonPid(box) !== dead && webPids(rows).join() === before.join() && rows;
      },
      15_000,
    );
    assert.ok(back.find((r) => r.Service === 'once' && r.State === 'running'));
    await new Promise((r) => setTimeout(r, 500));
    await load.stop();
    assert.equal(load.counts.failed, 0, load.counts.errors.join('; '));
    assert.ok(load.counts.ok > 20, `${load.counts.ok} requests answered`);

    // Nothing the replicas printed while no daemon ran is lost.
    const logs = box.ok(['logs', '--no-log-prefix', 'web']);
    const ticks = [...new Set(logs.split('\n').filter((l) => l.startsWith('tick ')))]
      .map((l) => Number(l.slice(5)))
      .sort((a, b) => a - b);
    const perReplica = ticks.filter((n, i) => i === 0 || n !== ticks[i - 1]);
    assert.ok(perReplica.length > 20, 'ticks were logged');
    assert.deepEqual(
      perReplica,
      perReplica.map((_, i) => i),
      'every tick from 0 on is in the logs',
    );

    // Supervised again: a replica killed now is replaced, scale and stop work.
    const victim = before[0]!;
    process.kill(victim, 'SIGKILL');
    await waitFor(
      'the killed replica replaced',
      async () => {
        const pids = webPids(await box.psNow());
        return pids.length === 2 && !pids.includes(victim);
      },
      10_000,
    );
    box.ok(['scale', 'web=3']);
    await waitFor('three web', async () => webPids(await box.psNow()).length === 3, 15_000);
    box.ok(['stop', 'once']);
    const once = (await box.psNow()).find((r) => r.Service === 'once');
    assert.equal(once?.State, 'exited');
  } finally {
    box.cleanup();
  }
});

test('a replica that died while no daemon ran is restarted as its policy says (restart: no stays down)', async () => {
  const { box } = await stack();
  try {
    const rows = await box.psNow();
    const [web1, web2] = rows.filter((r) => r.Service === 'web').map((r) => r.Pid!);
    const once = rows.find((r) => r.Service === 'once')!.Pid!;
    // The proxy would start the daemon again at once: hold it while the replicas die.
    const primary = proxyPrimary(box);
    process.kill(primary, 'SIGSTOP');
    try {
      const dead = daemonPid(box);
      process.kill(dead, 'SIGKILL');
      process.kill(-web1!, 'SIGKILL');
      process.kill(-once, 'SIGKILL');
      await waitFor('they are gone', () => !running(dead) && !running(web1!) && !running(once));
    } finally {
      process.kill(primary, 'SIGCONT');
    }
    const back = await waitFor(
      'web-1 restarted, once down',
      async () => {
        const now = await psWhenBack(box);
        const w1 = now?.find((r) => r.Name === 'outlive-web-1');
        return w1?.State === 'running' && w1.Pid !== web1 && now;
      },
      15_000,
    );
    const w1 = back.find((r) => r.Name === 'outlive-web-1')!;
    assert.equal(w1.Restarts, 1, 'restarted once, as unless-stopped says');
    assert.equal(back.find((r) => r.Name === 'outlive-web-2')!.Pid, web2, 'web-2 adopted');
    const o = back.find((r) => r.Service === 'once')!;
    assert.deepEqual([o.State, o.ExitCode], ['exited', 255], 'restart: no — and its code unknown');
  } finally {
    box.cleanup();
  }
});

test('with the proxy gone too, `herd up -d` adopts the replicas: never a second copy', async () => {
  const { box, port } = await stack();
  try {
    const before = webPids(await box.psNow());
    const primary = proxyPrimary(box);
    process.kill(primary, 'SIGSTOP');
    process.kill(daemonPid(box), 'SIGKILL');
    process.kill(-primary, 'SIGKILL');
    await waitFor('the proxy gone', () => !running(primary));
    assert.ok(before.every(running), 'the replicas run on');
    box.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    const after = await box.psNow();
    assert.deepEqual(webPids(after), before, 'the same processes');
    assert.equal(after.filter((r) => r.State === 'running').length, 3);
    assert.equal((await httpGet(port)).status, 200);
  } finally {
    box.cleanup();
  }
});

test('a daemon that cannot come back (the file broke meanwhile): the proxy serves on, and `down` ends it all', async () => {
  const { box, port } = await stack();
  try {
    const before = webPids(await box.psNow());
    writeFileSync(join(box.dir, 'compose.yaml'), 'services: [oops\n');
    const dead = daemonPid(box);
    process.kill(dead, 'SIGKILL');
    await waitFor('the daemon gone', () => !running(dead));
    // Revivals fail (the daemon log says why); the last table keeps serving meanwhile.
    await waitFor(
      'a failed revival logged',
      () => readFileSync(join(box.stateDir, 'daemon.log'), 'utf8').includes('compose.yaml'),
      15_000,
    );
    for (let i = 0; i < 5; i++) assert.equal((await httpGet(port)).status, 200);
    const primary = proxyPrimaryOf(box.stateDir);
    const down = box.herd(['-p', 'outlive', 'down'], { timeoutMs: 60_000 });
    assert.equal(down.status, 0, down.stderr);
    assert.match(down.stdout, /proxy of outlive {2}Stopped/);
    await waitFor('all gone', () => ![primary, ...before].some(running), 10_000);
    await assert.rejects(httpGet(port), 'nothing listens on the port');
  } finally {
    box.cleanup();
  }
});
