// Real processes behind the real engine and balancer, under continuous keep-alive load: a replica
// killed with SIGKILL loses no request and comes back (restart: always) or stays down and leaves
// the pool (restart: no); scaling 2 → 5 → 2 loses no request and leaves no process behind; and
// shutdown stops services in reverse dependency order. The compose files are loaded from disk as
// `herd up` loads them; every process is a small node HTTP app that answers with its
// HERD_REPLICA and pid.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ReplicaInfo } from '../../src/engine/events.ts';
import { allocatePort } from '../../src/runtime/ports.ts';
import { uniqueProjectName } from '../helpers/docker-project.ts';
import {
  getText,
  loadComposeDir,
  loadLoop,
  startStack,
  writeCompose,
  type LoadResult,
  type Stack,
} from '../helpers/docker-stack.ts';
import { pidAlive, replica, waitUntil } from '../helpers/wait.ts';

/** Answers `<HERD_REPLICA> <pid> <path>` after a few ms (so requests are in flight when a replica
 * dies). With STOP_LOG set, SIGTERM appends `<ms> term <service>-<n>`, waits EXIT_DELAY_MS, then
 * appends `<ms> exit <service>-<n>` and exits. */
const APP = `
import { createServer } from 'node:http';
import { appendFileSync } from 'node:fs';
const { HERD_SERVICE: service, HERD_REPLICA: replica, PORT, STOP_LOG, EXIT_DELAY_MS } = process.env;
createServer((req, res) => {
  setTimeout(() => res.end(replica + ' ' + process.pid + ' ' + req.url + '\\n'), 3);
}).listen(Number(PORT), '127.0.0.1');
const log = (what) => {
  if (STOP_LOG) appendFileSync(STOP_LOG, Date.now() + ' ' + what + ' ' + service + '-' + replica + '\\n');
};
process.on('SIGTERM', () => {
  log('term');
  setTimeout(() => {
    log('exit');
    process.exit(0);
  }, Number(EXIT_DELAY_MS ?? 0));
});
`;

const NODE = JSON.stringify(process.execPath);
const LOAD_MAX_MS = 60_000;
const TEST_TIMEOUT_MS = 120_000;

interface Started {
  stack: Stack;
  dir: string;
}

/** Writes the compose file (with app.mjs next to it), loads it from disk and starts it. */
async function start(yaml: string): Promise<Started> {
  const dir = writeCompose(yaml, { 'app.mjs': APP });
  const stack = await startStack(await loadComposeDir(dir), undefined, 60_000);
  return { stack, dir };
}

async function stop(stack: Stack): Promise<void> {
  await stack.engine.shutdown().catch(() => undefined);
  await stack.proxy.close();
  await stack.runtimes.close();
}

type Load = ReturnType<typeof loadLoop>;

/** web × `scale` under `restart`, a bounded load loop on its port, both ended whatever happens. */
async function webUnderLoad(
  project: string,
  scale: number,
  restart: string,
  body: (stack: Stack, load: Load, port: number) => Promise<void>,
): Promise<void> {
  const port = await allocatePort();
  const { stack } = await start(`
name: ${uniqueProjectName(project)}
services:${webService(port, scale, restart)}
`);
  const load = loadLoop(port, 4, LOAD_MAX_MS);
  try {
    await body(stack, load, port);
  } finally {
    await load.stop();
    await stop(stack);
  }
}

function webService(port: number, scale: number, restart: string): string {
  return `
  web:
    command: [${NODE}, "app.mjs"]
    ports: ["127.0.0.1:${port}:8080"]
    scale: ${scale}
    restart: "${restart}"
    stop_grace_period: 5s`;
}

/** The web replicas, once there are exactly `n` and every one is running and in the pool. */
function readyWeb(stack: Stack, n: number) {
  return () => {
    const web = stack.engine.replicas().filter((r) => r.service === 'web');
    return web.length === n && web.every((r) => r.state === 'running' && r.ready) && web;
  };
}

/** Waits until every one of `indexes` answered through the balancer on `port`. */
async function allAnswer(port: number, indexes: string[]): Promise<void> {
  const seen = new Set<string>();
  await waitUntil(
    `answers from web ${indexes.join(', ')} through :${port}`,
    async () => {
      const body = await getText(port, '/warm').catch(() => '');
      seen.add(body.split(' ')[0] ?? '');
      return indexes.every((i) => seen.has(i));
    },
    20_000,
    5,
  );
}

/** Waits until the load loop has made `more` successful requests beyond `from`. */
function moreRequests(result: LoadResult, more: number, from = result.ok) {
  return waitUntil(
    `${more} more requests through the balancer (${result.ok - from} so far)`,
    () => result.ok >= from + more,
    30_000,
  );
}

function answers(result: LoadResult, index: string): number {
  return result.byHost.get(index) ?? 0;
}

function describeLoad(result: LoadResult): string {
  const by = [...result.byHost].map(([k, v]) => `${k}:${v}`).join(' ');
  return `ok=${result.ok} failed=${result.failed} by replica ${by}\n${result.errors.join('\n')}`;
}

test(
  'restart: always — a replica SIGKILLed under load loses no request, restarts and takes traffic again',
  { timeout: TEST_TIMEOUT_MS },
  () =>
    webUnderLoad('herdkill', 3, 'always', async (stack, load, port) => {
      await waitUntil('three ready web replicas', readyWeb(stack, 3), 20_000);
      await allAnswer(port, ['1', '2', '3']);
      await moreRequests(load.result, 100);
      const before = replica(stack.engine, 'web-2')!;
      assert.ok(before.pid !== undefined && pidAlive(before.pid), 'web-2 has a live pid');
      process.kill(before.pid, 'SIGKILL');

      const back = await waitUntil(
        'web-2 restarted and back in the pool',
        () => {
          const r = replica(stack.engine, 'web-2');
          return r?.state === 'running' && r.ready && r.pid !== before.pid && r;
        },
        30_000,
      );
      assert.equal(back.restarts, before.restarts + 1);
      assert.equal(back.lastExit?.exitCode, 137);
      assert.equal(pidAlive(before.pid), false, 'the killed process is gone');
      // The restarted process takes traffic again: its answers keep coming under load…
      const twoBefore = answers(load.result, '2');
      await waitUntil(
        `answers from the restarted web-2 (${describeLoad(load.result)})`,
        () => answers(load.result, '2') >= twoBefore + 20,
        30_000,
      );
      // …and they come from the new process, not a leftover of the old one.
      const pids = new Set<string>();
      for (let i = 0; i < 60 && !pids.has(`2 ${back.pid}`); i++) {
        const [index, pid] = (await getText(port, `/after${i}`)).split(' ');
        pids.add(`${index} ${pid}`);
      }
      assert.ok(pids.has(`2 ${back.pid}`), `no answer from the new web-2: ${[...pids].join(', ')}`);
      assert.ok(!pids.has(`2 ${before.pid}`));
      const result = await load.stop();
      assert.equal(result.failed, 0, describeLoad(result));
      assert.ok(result.ok > 200, describeLoad(result));
    }),
);

test(
  'setScale 2 → 5 → 2 under load: no lost request, all five answer, 3-5 are gone afterwards',
  { timeout: TEST_TIMEOUT_MS },
  () =>
    webUnderLoad('herdscale', 2, 'always', async (stack, load) => {
      await waitUntil('two ready web replicas', readyWeb(stack, 2), 20_000);
      await moreRequests(load.result, 100);
      assert.deepEqual([...load.result.byHost.keys()].sort(), ['1', '2']);

      stack.engine.setScale('web', 5);
      const five = await waitUntil('five ready web replicas', readyWeb(stack, 5), 30_000);
      const extra = five.filter((r) => r.index > 2);
      assert.equal(new Set(five.map((r) => r.pid)).size, 5);
      await waitUntil(
        `answers from all five under load (${describeLoad(load.result)})`,
        () => ['1', '2', '3', '4', '5'].every((i) => answers(load.result, i) >= 5),
        30_000,
      );
      assert.equal(load.result.failed, 0, describeLoad(load.result));

      stack.engine.setScale('web', 2);
      const two = await waitUntil(
        'only web-1 and web-2 left',
        () => {
          const web = stack.engine.replicas().filter((r) => r.service === 'web');
          return web.length === 2 && web;
        },
        30_000,
      );
      assert.deepEqual(
        two.map((r) => [r.index, r.state, r.ready]),
        [
          [1, 'running', true],
          [2, 'running', true],
        ],
      );
      await waitUntil(
        'the processes of web-3, web-4 and web-5 gone',
        () => extra.every((r: ReplicaInfo) => !pidAlive(r.pid!)),
        15_000,
      );
      // The balancer no longer sends anything to 3-5; 1 and 2 take it all.
      const snapshot = new Map(load.result.byHost);
      await moreRequests(load.result, 100);
      for (const i of ['3', '4', '5']) assert.equal(answers(load.result, i), snapshot.get(i) ?? 0);
      for (const i of ['1', '2']) assert.ok(answers(load.result, i) > (snapshot.get(i) ?? 0));
      const result = await load.stop();
      assert.equal(result.failed, 0, describeLoad(result));
    }),
);

test(
  'restart: no — a SIGKILLed replica stays down and leaves the balancer; requests keep succeeding',
  { timeout: TEST_TIMEOUT_MS },
  () =>
    webUnderLoad('herdnorestart', 3, 'no', async (stack, load, port) => {
      await waitUntil('three ready web replicas', readyWeb(stack, 3), 20_000);
      await allAnswer(port, ['1', '2', '3']);
      await moreRequests(load.result, 100);
      const before = replica(stack.engine, 'web-2')!;
      process.kill(before.pid!, 'SIGKILL');
      const down = await waitUntil(
        'web-2 exited',
        () => {
          const r = replica(stack.engine, 'web-2');
          return r?.state === 'exited' && r;
        },
        15_000,
      );
      assert.equal(down.lastExit?.exitCode, 137);
      const twoAtExit = answers(load.result, '2');
      const statsAtExit = stack.proxy.stats().find((s) => s.replica === before.name)?.requests;
      // Well past the first restart backoff (100 ms): it stays down, and gets no traffic.
      await new Promise((r) => setTimeout(r, 1500));
      await moreRequests(load.result, 200);
      const after = replica(stack.engine, 'web-2')!;
      assert.equal(after.state, 'exited');
      assert.equal(after.restarts, 0);
      assert.equal(after.pid === undefined || !pidAlive(after.pid), true);
      assert.equal(answers(load.result, '2'), twoAtExit, 'web-2 answered after it exited');
      assert.equal(
        stack.proxy.stats().find((s) => s.replica === before.name)?.requests,
        statsAtExit,
        'the balancer sent requests to web-2 after it exited',
      );
      for (const i of ['1', '3']) assert.ok(answers(load.result, i) > 0);
      const result = await load.stop();
      assert.equal(result.failed, 0, describeLoad(result));
      assert.ok(result.ok > 300, describeLoad(result));
    }),
);

test(
  'shutdown stops services in reverse dependency order: web, then api, then db',
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const port = await allocatePort();
    // Each process takes 300 ms between SIGTERM and its exit: stopping the levels together would
    // interleave their terms and exits in the log.
    const env = `
    environment: { STOP_LOG: stops.log, EXIT_DELAY_MS: "300" }
    stop_grace_period: 10s`;
    const { stack, dir } = await start(`
name: ${uniqueProjectName('herdorder')}
services:
  db:
    command: [${NODE}, "app.mjs"]
    expose: ["5432"]${env}
  api:
    command: [${NODE}, "app.mjs"]
    expose: ["3000"]
    scale: 2
    depends_on:
      db: { condition: service_started }${env}
  web:
    command: [${NODE}, "app.mjs"]
    ports: ["127.0.0.1:${port}:8080"]
    scale: 2
    depends_on: [api]${env}
`);
    let stopped = false;
    try {
      await waitUntil(
        'every replica running and ready',
        () => {
          const all = stack.engine.replicas();
          return all.length === 5 && all.every((r) => r.state === 'running' && r.ready);
        },
        30_000,
      );
      await allAnswer(port, ['1', '2']);
      const from = stack.events.length;
      await stack.engine.shutdown();
      stopped = true;
      assert.ok(stack.engine.replicas().every((r) => r.state === 'exited'));

      // What the processes saw: every replica of a level exited before the next level got SIGTERM.
      const lines = readFileSync(join(dir, 'stops.log'), 'utf8').trim().split('\n');
      const log = lines.map((l) => {
        const [at, what, name] = l.split(' ');
        return { at: Number(at), what: what!, service: name!.split('-')[0]! };
      });
      const times = (what: string, service: string) =>
        log.filter((e) => e.what === what && e.service === service).map((e) => e.at);
      for (const [service, n] of [
        ['web', 2],
        ['api', 2],
        ['db', 1],
      ] as const) {
        assert.equal(times('term', service).length, n, lines.join('\n'));
        assert.equal(times('exit', service).length, n, lines.join('\n'));
      }
      assert.ok(
        Math.max(...times('exit', 'web')) <= Math.min(...times('term', 'api')),
        `api got SIGTERM before web had exited:\n${lines.join('\n')}`,
      );
      assert.ok(
        Math.max(...times('exit', 'api')) <= Math.min(...times('term', 'db')),
        `db got SIGTERM before api had exited:\n${lines.join('\n')}`,
      );

      // What the engine reported: the same order of stopping and exited replicas.
      const seq = stack.events.slice(from).flatMap((e) => {
        if (e.type !== 'replica') return [];
        const { service, index, state } = e.replica;
        return state === 'stopping' || state === 'exited' ? [`${service}-${index} ${state}`] : [];
      });
      const shown = seq.join('\n');
      const replicas = ['web-1', 'web-2', 'api-1', 'api-2', 'db-1'];
      for (const r of replicas) {
        assert.ok(seq.includes(`${r} stopping`) && seq.includes(`${r} exited`), shown);
      }
      // Per service, where its first and last stop event fall: the levels do not overlap.
      const span = (service: string) => {
        const at = seq.flatMap((s, i) => (s.startsWith(`${service}-`) ? [i] : []));
        return { first: Math.min(...at), last: Math.max(...at) };
      };
      const [web, api, db] = [span('web'), span('api'), span('db')];
      assert.ok(web.last < api.first, `api stopped before web was done:\n${shown}`);
      assert.ok(api.last < db.first, `db stopped before api was done:\n${shown}`);
    } finally {
      if (!stopped) await stop(stack);
      else {
        await stack.proxy.close();
        await stack.runtimes.close();
      }
    }
  },
);
