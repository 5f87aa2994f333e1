// The CLI checks every reply against its route's schema (api-types.ts): something that answers on
// the socket with a shape herd does not know gets a clear error naming the socket, never a
// TypeError from a formatter.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { psShape, replyShapes } from '../../src/daemon/api-types.ts';
import { DaemonClient } from '../../src/daemon/client.ts';
import { ensurePrivateDir } from '../../src/daemon/paths.ts';
import { downUntil } from '../../src/daemon/outage.ts';
import type { ReplicaInfo } from '../../src/engine/events.ts';
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
});
