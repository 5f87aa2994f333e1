// The CLI checks every reply against its route's schema (api-types.ts): something that answers on
// the socket with a shape herd does not know gets a clear error naming the socket, never a
// TypeError from a formatter.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { psShape, replyShapes } from '../../src/daemon/api-types.ts';
import { DaemonClient } from '../../src/daemon/client.ts';
import { routeNames } from '../../src/daemon/server.ts';
import { ensurePrivateDir } from '../../src/daemon/paths.ts';
import type { EngineControl } from '../../src/daemon/control.ts';
import { downUntil, OutageWatch } from '../../src/daemon/outage.ts';
import { DaemonWarnings } from '../../src/daemon/warnings.ts';
import type { EngineEvent, ReplicaInfo } from '../../src/engine/events.ts';
import { isHerdError } from '../../src/util/errors.ts';
import { tempDir } from '../helpers/tmp.ts';

describe('replies the client does not understand', () => {
  let server: Server;
  let socket = '';
  let answer = '{}';
  before(async () => {
    const dir = join(tempDir('replies'), 's');
    ensurePrivateDir(dir);
    socket = join(dir, 'herd.sock');
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(answer);
    });
    await new Promise<void>((r) => server.listen(socket, r));
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const bogus = (route: string) => (err: unknown) =>
    isHerdError(err, 'BAD_REPLY') &&
    err.message.startsWith(
      `the daemon at ${socket} answered something herd does not understand (${route}: `,
    );

  it('ps, top and port answered with {} are refused with the socket named', async () => {
    const client = new DaemonClient(socket, 'shop');
    answer = '{}';
    await assert.rejects(client.get('/v1/ps'), bogus('GET /v1/ps'));
    await assert.rejects(client.get('/v1/top'), bogus('GET /v1/top'));
    await assert.rejects(client.get('/v1/port?service=web'), bogus('GET /v1/port'));
    await assert.rejects(client.post('/v1/scale', { web: 2 }), bogus('POST /v1/scale'));
  });

  it('every route the daemon answers has the shape its reply is checked against', () => {
    const routes = routeNames();
    assert.ok(routes.includes('GET /v1/ps') && routes.length > 15, routes.join(', '));
    assert.deepEqual(
      routes.filter((r) => replyShapes[r] === undefined),
      [],
      'routes whose replies the client would take unchecked',
    );
  });

  it('rm, rollback, pause and exec-target answered with {} are refused too', async () => {
    const client = new DaemonClient(socket, 'shop');
    answer = '{}';
    await assert.rejects(client.post('/v1/rm', {}), bogus('POST /v1/rm'));
    await assert.rejects(client.post('/v1/rollback', {}), bogus('POST /v1/rollback'));
    await assert.rejects(client.post('/v1/pause', {}), bogus('POST /v1/pause'));
    await assert.rejects(client.get('/v1/exec-target?service=web'), bogus('GET /v1/exec-target'));
  });

  it('names the first field that does not fit', async () => {
    const client = new DaemonClient(socket, 'shop');
    answer = JSON.stringify({ project: 'shop', now: 1, services: [], replicas: [{ name: 3 }] });
    await assert.rejects(client.get('/v1/ps'), /the reply\.replicas\[0\]\.service is missing/);
    answer = 'not json';
    await assert.rejects(client.get('/v1/ps'), /the reply is not JSON/);
  });

  it('checks each line of a stream', async () => {
    const client = new DaemonClient(socket, 'shop');
    answer = '{"type":"notice","at":1,"message":"ok"}\n{"nonsense":true}\n';
    const seen: unknown[] = [];
    await assert.rejects(
      client.stream('/v1/events', (e) => seen.push(e)),
      bogus('GET /v1/events'),
    );
    assert.equal(seen.length, 1, 'the good line came through first');
  });

  it('a well-formed answer passes, with fields it does not know', () => {
    const ps = {
      project: 'shop',
      now: 5,
      services: [{ name: 'web', ports: [], expose: [], scale: 1, stopped: false }],
      replicas: [],
      somethingNewer: [1, 2],
    };
    assert.equal(psShape(ps, 'ps'), undefined);
    assert.equal(replyShapes['GET /v1/ping']!({ project: 'shop', pid: 4 }, 'r'), undefined);
  });
});

describe('a service down for backoff', () => {
  const replica = (
    index: number,
    state: ReplicaInfo['state'],
    restartAt?: number,
  ): ReplicaInfo => ({
    service: 'web',
    index,
    name: `shop-web-${index}`,
    state,
    health: 'none',
    host: '127.0.0.1',
    ports: {},
    restarts: 1,
    restartAt,
  });

  it('is down only when every replica waits to restart, until the earliest attempt', () => {
    assert.equal(downUntil([replica(1, 'backoff', 500), replica(2, 'backoff', 300)], 'web'), 300);
    assert.equal(downUntil([replica(1, 'backoff', 500), replica(2, 'running')], 'web'), undefined);
    assert.equal(downUntil([replica(1, 'backoff', 500), replica(2, 'removed')], 'web'), 500);
    assert.equal(downUntil([], 'web'), undefined);
  });

  it('is announced once on events, with the next attempt, and the end once a replica runs', () => {
    let replicas: ReplicaInfo[] = [];
    let listener: ((e: EngineEvent) => void) | undefined;
    const engine = {
      replicas: () => replicas,
      on: (_: 'event', l: (e: EngineEvent) => void) => (listener = l),
      off: () => (listener = undefined),
    } as unknown as EngineControl;
    const warnings = new DaemonWarnings();
    const notices: string[] = [];
    warnings.on((e) => e.type === 'notice' && notices.push(e.message));
    const watch = new OutageWatch(engine, warnings);
    const step = (next: ReplicaInfo[], at = 1000) => {
      replicas = next;
      listener!({ type: 'replica', at, replica: next[0]! });
    };
    step([replica(1, 'backoff', 3000), replica(2, 'running')]);
    assert.deepEqual(notices, []);
    step([replica(1, 'backoff', 3000), replica(2, 'backoff', 4000)]);
    step([replica(1, 'starting'), replica(2, 'backoff', 4000)]);
    step([replica(1, 'backoff', 5000), replica(2, 'backoff', 4000)]);
    assert.equal(notices.length, 1, 'a retry that only started does not end it');
    assert.match(
      notices[0]!,
      /^service web is down: every replica is waiting to restart .*next attempt at 00:00:03 UTC \(in 2 s\)/,
    );
    assert.match(
      warnings.list()[0]!,
      /next attempt at 00:00:04 UTC/,
      'the warning follows the next attempt',
    );
    step([replica(1, 'running'), replica(2, 'backoff', 4000)]);
    assert.deepEqual(notices.slice(1), ['service web is no longer waiting to restart']);
    assert.deepEqual(warnings.list(), []);
    watch.close();
    assert.equal(listener, undefined);
  });
});
