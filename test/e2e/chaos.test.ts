// Chaos, bounded: for 60 s under a steady load through the published port, a random web replica
// is killed -9 every 2 s and the daemon every 15 s. No request may fail, no replica may be
// doubled, and `down` leaves no process. The figures go to docs/RELIABILITY.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readEnviron, readStat } from '../../src/util/process-identity.ts';
import { freePort, requestLoop, sandbox, waitFor, type Sandbox } from '../helpers/e2e.ts';
import { tempDir } from '../helpers/tmp.ts';

const CHAOS_MS = Number(process.env.HERD_CHAOS_MS ?? 60_000);
const REPLICA_KILL_EVERY_MS = 2_000;
const DAEMON_KILL_EVERY_MS = 15_000;
const PROJECT = 'chaos';

const APP = `
const http = require('node:http');
http.createServer((req, res) => res.end(process.env.HERD_REPLICA + '\\n'))
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

/** The web replicas running right now, as /proc sees them (not as herd says). */
function webProcesses(): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const env = readEnviron(Number(e));
    if (env?.get('HERD_PROJECT') !== PROJECT || env.get('HERD_SERVICE') !== 'web') continue;
    if ((readStat(Number(e))?.state ?? 'Z') !== 'Z') out.push(Number(e));
  }
  return out;
}

/** Every process of the project: replicas, the daemon and its proxy (by their environment). */
function stackProcesses(stateDir: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => {
      const env = readEnviron(pid);
      const st = readStat(pid);
      return (
        st !== undefined &&
        st.state !== 'Z' &&
        pid !== process.pid &&
        (env?.get('HERD_PROJECT') === PROJECT || env?.get('HERD_STATE_DIR') === stateDir)
      );
    });
}

function daemonPid(box: Sandbox): number {
  const state = JSON.parse(readFileSync(join(box.stateDir, 'state.json'), 'utf8')) as {
    daemonPid: number;
  };
  return state.daemonPid;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('chaos: replicas killed every 2 s and the daemon every 15 s under load: no failed request, no double, nothing left', async () => {
  const root = tempDir('chaos');
  const dir = join(root, 'project');
  mkdirSync(dir);
  const port = await freePort();
  writeFileSync(
    join(dir, 'compose.yaml'),
    `name: ${PROJECT}
services:
  web:
    command: [node, app.js]
    ports: ["127.0.0.1:${port}:5000"]
    restart: unless-stopped
    deploy:
      replicas: 3
`,
  );
  writeFileSync(join(dir, 'app.js'), APP);
  const box = sandbox(root, dir, { HERD_REVIVE_WAIT: '20' });
  const figures = { replicaKills: 0, daemonKills: 0, maxWeb: 0, loads: [] as number[] };
  try {
    box.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    const loads = [requestLoop(port, CHAOS_MS + 30_000), requestLoop(port, CHAOS_MS + 30_000)];
    const end = Date.now() + CHAOS_MS;
    let nextDaemonKill = Date.now() + DAEMON_KILL_EVERY_MS;
    while (Date.now() < end) {
      await sleep(REPLICA_KILL_EVERY_MS);
      const web = webProcesses();
      figures.maxWeb = Math.max(figures.maxWeb, web.length);
      const victim = web[Math.floor(Math.random() * web.length)];
      if (victim !== undefined) {
        process.kill(victim, 'SIGKILL');
        figures.replicaKills++;
      }
      if (Date.now() >= nextDaemonKill) {
        try {
          process.kill(daemonPid(box), 'SIGKILL');
          figures.daemonKills++;
        } catch {
          // between two daemons: the next one is killed next time
        }
        nextDaemonKill += DAEMON_KILL_EVERY_MS;
      }
    }
    // Settled: three web replicas, exactly those herd lists, and still serving.
    const rows = await waitFor(
      'three running web replicas, the ones herd lists',
      async () => {
        const ps = await box.psNow(false).catch(() => undefined);
        const running = ps?.filter((r) => r.Service === 'web' && r.State === 'running');
        const pids = running?.map((r) => r.Pid!).sort((a, b) => a - b);
        const real = webProcesses().sort((a, b) => a - b);
        return pids?.length === 3 && pids.join() === real.join() && running;
      },
      20_000,
    );
    assert.deepEqual(rows.map((r) => r.Index).sort(), [1, 2, 3], 'no slot doubled');
    await sleep(500);
    for (const l of loads) await l.stop();
    const failed = loads.reduce((n, l) => n + l.counts.failed, 0);
    const ok = loads.reduce((n, l) => n + l.counts.ok, 0);
    figures.loads = loads.map((l) => l.counts.ok);
    process.stdout.write(
      `chaos: ${ok} requests answered, ${failed} failed; ${figures.replicaKills} replica kills, ` +
        `${figures.daemonKills} daemon kills in ${CHAOS_MS / 1000} s; at most ` +
        `${figures.maxWeb} web processes at once\n`,
    );
    assert.equal(failed, 0, loads.flatMap((l) => l.counts.errors.slice(0, 5)).join('; '));
    assert.ok(figures.daemonKills >= Math.floor(CHAOS_MS / DAEMON_KILL_EVERY_MS) - 1);
    assert.ok(figures.maxWeb <= 3, `${figures.maxWeb} web processes at once: a replica doubled`);
    box.ok(['down'], { timeoutMs: 60_000 });
    await waitFor('nothing of the stack left', () => stackProcesses(box.stateDir).length === 0);
  } finally {
    box.cleanup();
  }
});
