// The ingress served by the data plane: in a proxy process group (its own process beside the
// workers, which the primary keeps in step with the last config the daemon sent) and in this
// process (a local plane). Routes reach the pools by the planes' listener ids; the same config
// again reopens nothing, other routes are swapped in, other settings reopen the entries, and a
// config the primary cannot serve is refused with what is wrong. Real processes and sockets.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { IngressSettings } from '../../src/compose/ingress-settings.ts';
import type { Route } from '../../src/compose/routes.ts';
import { DEFAULT_HTTP_LIMITS } from '../../src/proxy/http-limits.ts';
import { LocalPlane } from '../../src/proxy/local-plane.ts';
import type { DataPlane, IngressConfig, PlaneSettings } from '../../src/proxy/plane.ts';
import { ProcessPlane } from '../../src/proxy/process/process-plane.ts';
import { isHerdError } from '../../src/util/errors.ts';
import { groupMembers } from '../../src/util/process-identity.ts';
import { freePort, get, httpBackend, makeService, type Backend } from '../helpers/backends.ts';
import { waitUntil } from '../helpers/wait.ts';

const SETTINGS: PlaneSettings = {
  limits: DEFAULT_HTTP_LIMITS,
  sniffMs: 300,
  upstreamIdleMs: 4000,
  slowStartMs: 0,
};

const route = (host: string, service: string): Route => ({
  service,
  host,
  path: '/',
  stripPrefix: false,
  port: 80,
  source: 'test',
});

/** Two pools (a and b), each behind a listener of `plane`: the ids an ingress config names. */
async function pools(plane: DataPlane, a: Backend, b: Backend): Promise<void> {
  for (const [id, backend] of [
    ['pa', a],
    ['pb', b],
  ] as const) {
    const service = id.slice(1);
    await plane.open({
      id,
      service,
      host: '127.0.0.1',
      port: 0,
      mode: 'http',
      lb: makeService(service).herd.lb,
      keepForwarded: true,
    });
    plane.add({
      listener: id,
      replica: `t-${service}-1`,
      service,
      host: '127.0.0.1',
      port: backend.port,
    });
  }
}

function config(httpPort: number, routes: Route[]): IngressConfig {
  const settings: IngressSettings = {
    http: { host: '127.0.0.1', port: httpPort },
    redirectHttps: false,
  };
  return { settings, routes, pools: { 'a:80': 'pa', 'b:80': 'pb' } };
}

const ask = (p: number, host: string, agent?: http.Agent) =>
  get(p, '/', { headers: { host }, ...(agent ? { agent } : {}) });

/** Whether `port` refuses connections. */
const refused = (p: number) =>
  get(p).then(
    () => false,
    (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED',
  );

/** What both planes must do, on `plane` (started, with pools pa and pb). */
async function servesAndFollows(plane: DataPlane): Promise<void> {
  const first = await freePort();
  await plane.ingress(config(first, [route('a.localhost', 'a')]));
  assert.equal((await ask(first, 'a.localhost')).body, 'a');
  assert.equal((await ask(first, 'b.localhost')).status, 404);

  // The same config again, then other routes: the entry stays open (a kept-alive connection
  // goes on), the new routes answer on it.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    assert.equal((await ask(first, 'a.localhost', agent)).body, 'a');
    await plane.ingress(config(first, [route('a.localhost', 'a')]));
    await plane.ingress(config(first, [route('a.localhost', 'a'), route('b.localhost', 'b')]));
    let reused = false;
    const req = http.get({
      host: '127.0.0.1',
      port: first,
      headers: { host: 'b.localhost' },
      agent,
    });
    const body = await new Promise<string>((resolve, reject) => {
      req.on('response', (res) => {
        reused = req.reusedSocket;
        let s = '';
        res.on('data', (d) => (s += d));
        res.on('end', () => resolve(s));
      });
      req.on('error', reject);
    });
    assert.equal(body, 'b');
    assert.ok(reused, 'the connection from before the new routes served it');
  } finally {
    agent.destroy();
  }

  // Other settings reopen it: the old address is closed, the new one serves.
  const moved = await freePort();
  await plane.ingress(config(moved, [route('a.localhost', 'a')]));
  assert.ok(await refused(first), 'the old entry is closed');
  assert.equal((await ask(moved, 'a.localhost')).body, 'a');

  // A taken address: refused as a port that is unavailable; nothing is served, and a config that
  // can be served is taken after it.
  const taken = http.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const takenPort = (taken.address() as { port: number }).port;
  try {
    await assert.rejects(plane.ingress(config(takenPort, [])), (err: Error) => {
      assert.ok(isHerdError(err, 'PORT_UNAVAILABLE'), String(err));
      assert.match(err.message, new RegExp(`cannot listen for http on 127.0.0.1:${takenPort}`));
      return true;
    });
  } finally {
    taken.close();
  }
  assert.ok(await refused(moved));
  await plane.ingress(config(moved, [route('a.localhost', 'a')]));
  assert.equal((await ask(moved, 'a.localhost')).body, 'a');

  // None: the entry closes.
  await plane.ingress(null);
  assert.ok(await refused(moved));
}

describe('the ingress in a proxy process group', () => {
  let dir: string;
  let a: Backend;
  let b: Backend;
  let plane: ProcessPlane;
  const warnings: string[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'herd-ingress-plane-'));
    [a, b] = [await httpBackend('a'), await httpBackend('b')];
    plane = new ProcessPlane({
      dir,
      workers: 1,
      warn: (m) => warnings.push(m),
      settings: SETTINGS,
    });
    await plane.start();
    await pools(plane, a, b);
  });

  after(async () => {
    await plane.shutdown();
    await Promise.all([a.close(), b.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves, follows new routes and settings, and refuses what it cannot bind', () =>
    servesAndFollows(plane));

  it('starts its ingress process again when it dies, with the last config; none with none', async () => {
    /** The group's ingress process (by its title: tsx gives every node process an esbuild child). */
    const ingressPids = () =>
      groupMembers(plane.primaryPid!).filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('herd-ingress');
        } catch {
          return false; // gone meanwhile
        }
      });
    const p = await freePort();
    await plane.ingress(config(p, [route('a.localhost', 'a')]));
    const [old, ...more] = ingressPids();
    assert.ok(old !== undefined && more.length === 0, `one ingress process: ${ingressPids()}`);
    process.kill(old, 'SIGKILL');
    await waitUntil('a new ingress process serving the same config', async () => {
      const now = ingressPids();
      const r = await ask(p, 'a.localhost').catch(() => undefined);
      return now.length === 1 && now[0] !== old && r?.body === 'a';
    });
    assert.ok(
      warnings.includes('proxy: the ingress process exited (SIGKILL); starting a new one'),
      warnings.join('\n'),
    );
    await plane.ingress(null);
    await waitUntil('no ingress process', () => ingressPids().length === 0);
    assert.ok(await refused(p));
  });

  it('refuses a config that does not fit, saying what is wrong', async () => {
    const bad = config(await freePort(), []);
    (bad.settings.http as unknown as { port: string }).port = 'eighty';
    await assert.rejects(
      plane.ingress(bad),
      /cannot serve this ingress: the ingress config\.settings\.http\.port is string, not a whole number$/,
    );
  });
});

describe('the ingress in this process (a local plane)', () => {
  let a: Backend;
  let b: Backend;
  let plane: LocalPlane;

  before(async () => {
    [a, b] = [await httpBackend('a'), await httpBackend('b')];
    plane = new LocalPlane(SETTINGS);
    await pools(plane, a, b);
  });

  after(async () => {
    await plane.shutdown();
    await Promise.all([a.close(), b.close()]);
  });

  it('serves, follows new routes and settings, and refuses what it cannot bind', () =>
    servesAndFollows(plane));
});
