// The ingress outlives its daemon, through the herd binary: it is served by the proxy's process
// group (the process that owns its listening sockets is not the daemon), answers over HTTP and
// HTTPS while no daemon runs at all, and drops no request while a daemon killed with -9 is
// started again by the proxy (which re-sends the same ingress: the same process serves on).
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { readStat } from '../../src/util/process-identity.ts';
import { freePort, proxyPrimaryOf, sandbox, waitFor, type Sandbox } from '../helpers/e2e.ts';
import { tempDir } from '../helpers/tmp.ts';

const APP = `
const http = require('node:http');
http.createServer((q, r) => r.end(process.env.HERD_REPLICA + ' ' + q.headers['x-forwarded-proto']))
  .listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

function compose(http: number, https: number): string {
  return `name: edge
x-herd:
  ingress: { http: "127.0.0.1:${http}", https: "127.0.0.1:${https}", tls: internal }
services:
  web:
    command: [node, app.js]
    scale: 2
    x-herd: { routes: [web.localhost] }
`;
}

interface Answer {
  status: number;
  body: string;
}

/** GET / for web.localhost on a fresh connection, over HTTP, or HTTPS trusting `ca`. */
function get(port: number, ca?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const opts = { host: '127.0.0.1', port, path: '/', agent: false as const, timeout: 5000 };
    const headers = { host: 'web.localhost' };
    const onAnswer = (res: import('node:http').IncomingMessage) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    };
    const req =
      ca === undefined
        ? httpRequest({ ...opts, headers }, onAnswer)
        : httpsRequest({ ...opts, headers, ca, servername: 'web.localhost' }, onAnswer);
    req.on('timeout', () => req.destroy(new Error('no answer in 5 s')));
    req.on('error', reject);
    req.end();
  });
}

/** Requests over both entries, one after another, until stopped; every failure kept. */
function loop(http: number, https: number, ca: string) {
  let stop = false;
  const counts = { ok: 0, failed: [] as string[] };
  const done = (async () => {
    while (!stop) {
      for (const [port, c] of [
        [http, undefined],
        [https, ca],
      ] as const) {
        const r = await get(port, c).catch((e: Error) => ({ status: 0, body: e.message }));
        if (r.status === 200) counts.ok++;
        else counts.failed.push(`${port}: ${r.status} ${r.body.slice(0, 80)}`);
      }
      // A breath between rounds: the daemon coming back shares the CPU with these handshakes.
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    counts,
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

/** The processes that hold a socket listening on 127.0.0.1:`port` (from /proc). */
function listenerOwners(port: number): number[] {
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/tcp', 'latin1').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 9 && f[3] === '0A' && parseInt(f[1]!.split(':')[1]!, 16) === port)
      inodes.add(f[9]!);
  }
  const owners: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${e}/fd`);
    } catch {
      continue; // gone, or not ours
    }
    const holds = fds.some((fd) => {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${e}/fd/${fd}`));
        return m !== null && inodes.has(m[1]!);
      } catch {
        return false;
      }
    });
    if (holds) owners.push(Number(e));
  }
  return owners;
}

function daemonPid(box: Sandbox): number {
  return (
    JSON.parse(readFileSync(join(box.stateDir, 'state.json'), 'utf8')) as { daemonPid: number }
  ).daemonPid;
}

const running = (pid: number) => (readStat(pid)?.state ?? 'Z') !== 'Z';

test('the ingress is served by the proxy and answers over HTTP and HTTPS while the daemon is dead', async () => {
  const [http, https] = [await freePort(), await freePort()];
  const root = tempDir('e2e-ingress-outlives');
  const dir = join(root, 'edge');
  mkdirSync(dir);
  writeFileSync(join(dir, 'app.js'), APP);
  writeFileSync(join(dir, 'compose.yaml'), compose(http, https));
  const box = sandbox(root, dir, { XDG_DATA_HOME: join(root, 'data') });
  try {
    box.ok(['up', '-d', '--wait', '--wait-timeout', '40']);
    await waitFor('web through the ingress', async () => (await get(http)).status === 200, 15_000);
    const ca = box.ok(['tls', 'ca']);
    assert.match((await get(https, ca)).body, /^[12] https$/);

    // Served by the proxy's process group: not the daemon, and the same process for both entries.
    const first = daemonPid(box);
    const primary = proxyPrimaryOf(box.stateDir);
    const owners = listenerOwners(http);
    assert.equal(owners.length, 1, `one process listens on ${http}: ${owners.join()}`);
    const ingress = owners[0]!;
    assert.notEqual(ingress, first, 'the daemon does not serve the ingress');
    assert.notEqual(ingress, primary, 'the primary only holds sockets and the channel');
    assert.equal(readStat(ingress)?.pgid, primary, "it is in the proxy's process group");
    assert.deepEqual(listenerOwners(https), [ingress]);

    // No daemon at all (the primary, which would start it again, held meanwhile).
    process.kill(primary, 'SIGSTOP');
    try {
      process.kill(first, 'SIGKILL');
      await waitFor('the daemon gone', () => !running(first));
      for (let i = 0; i < 4; i++) {
        assert.match((await get(http)).body, /^[12] http$/);
        assert.match((await get(https, ca)).body, /^[12] https$/);
      }
    } finally {
      process.kill(primary, 'SIGCONT');
    }
    const second = await waitFor(
      'the daemon started again',
      async () => {
        const pid = daemonPid(box);
        return pid !== first && (await box.psNow().catch(() => undefined)) && pid;
      },
      30_000,
    );

    // kill -9 under load over both entries: not one request fails while it comes back.
    const load = loop(http, https, ca);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(second, 'SIGKILL');
    await waitFor(
      'the daemon back again',
      async () => {
        const pid = daemonPid(box);
        return pid !== second && (await box.psNow().catch(() => undefined)) !== undefined;
      },
      30_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    await load.stop();
    assert.deepEqual(load.counts.failed, []);
    assert.ok(load.counts.ok > 10, `${load.counts.ok} requests answered`);
    // The daemon that came back sent the same ingress: nothing was reopened.
    assert.deepEqual(listenerOwners(http), [ingress]);
    assert.deepEqual(listenerOwners(https), [ingress]);
  } catch (err) {
    // Why a daemon did not come back is in its log (the proxy appends each revival's output).
    const log = join(box.stateDir, 'daemon.log');
    if (existsSync(log)) process.stderr.write(readFileSync(log, 'utf8').slice(-4000));
    throw err;
  } finally {
    box.cleanup();
  }
});
