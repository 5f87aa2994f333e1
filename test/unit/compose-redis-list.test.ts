// `x-herd.autoscale.redis_list` in the file: its url keeps `${NAME_SERVICE_HOST/PORT}` for herd to
// fill with that service's address, bad settings are load errors at file:line:col, and the daemon
// resolves the url against the balancer's addresses.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ComposeError } from '../../src/compose/errors.ts';
import { loadProject } from '../../src/compose/load.ts';
import { checkRedisUrl, parseRedisUrl } from '../../src/compose/redis-url.ts';
import { resolve } from '../../src/metrics/queues.ts';
import { makeProject, makeService } from '../helpers/project.ts';
import { tempDir } from '../helpers/tmp.ts';

async function load(yaml: string, env: Record<string, string> = {}) {
  const dir = tempDir('redis-list');
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  return loadProject({ cwd: dir, env });
}

const worker = (autoscale: string) =>
  `services:\n  worker:\n    command: x\n    x-herd:\n      autoscale: ${autoscale}\n`;

test('the url keeps the service variables for herd and interpolates the rest, without warnings', async () => {
  const p = await load(
    worker(
      '{ max: 8, redis_list: { url: "redis://:${QUEUE_PASSWORD}@${REDIS_SERVICE_HOST}:${REDIS_SERVICE_PORT}/${DB:-2}", list: "${LIST}", target: 10 } }',
    ),
    { QUEUE_PASSWORD: 'pw', LIST: 'jobs', REDIS_SERVICE_HOST: 'elsewhere' },
  );
  assert.deepEqual(p.services.worker?.herd.extra.autoscale, {
    max: 8,
    redis_list: {
      url: 'redis://:pw@${REDIS_SERVICE_HOST}:${REDIS_SERVICE_PORT}/2',
      list: 'jobs',
      target: 10,
    },
  });
  assert.deepEqual(p.warnings, []);
  // Anywhere else, the same variable is the environment's, as Compose has it.
  const other = await load(
    'services:\n  w:\n    command: x\n    environment: { R: "${REDIS_SERVICE_HOST}" }\n',
    { REDIS_SERVICE_HOST: 'elsewhere' },
  );
  assert.equal(other.services.w?.environment.R, 'elsewhere');
});

test('a missing list or target, target ≤ 0 and a bad url are load errors at file:line:col', async () => {
  const text = [
    'services:',
    '  a:',
    '    command: x',
    '    x-herd:',
    '      autoscale:',
    '        max: 8',
    '        redis_list: { url: "redis://127.0.0.1:6379" }',
    '  b:',
    '    command: x',
    '    x-herd:',
    '      autoscale:',
    '        max: 8',
    '        redis_list:',
    '          url: "http://${REDIS_SERVICE_HOST}:${REDIS_SERVICE_PORT}"',
    '          list: jobs',
    '          target: 0',
    '  c:',
    '    command: x',
    '    x-herd:',
    '      autoscale:',
    '        max: 8',
    '        redis_list: { url: "redis://10.0.0.5:6379", list: jobs, target: 5 }',
    '  d:',
    '    command: x',
    '    x-herd:',
    '      autoscale:',
    '        max: 8',
    '        redis_list: { url: "redis://localhost:99999", list: jobs, target: 5 }',
  ].join('\n');
  const err = await load(text).then(
    () => assert.fail('expected the load to fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ComposeError, String(err));
  assert.deepEqual(
    err.message
      .split('\n')
      .slice(1)
      .map((l) => l.trim()),
    [
      'compose.yaml:7:21: services.a.x-herd.autoscale.redis_list.list: expected a non-empty string, got undefined',
      'compose.yaml:7:21: services.a.x-herd.autoscale.redis_list.target: is required: items per replica',
      'compose.yaml:14:16: services.b.x-herd.autoscale.redis_list.url: expected redis://host:port (such as redis://${REDIS_SERVICE_HOST}:${REDIS_SERVICE_PORT}), got "http://${REDIS_SERVICE_HOST}:${REDIS_SERVICE_PORT}"',
      'compose.yaml:16:19: services.b.x-herd.autoscale.redis_list.target: expected a number > 0, got 0',
      'compose.yaml:22:28: services.c.x-herd.autoscale.redis_list.url: must point at this machine (127.0.0.1, localhost, ::1 or a service\'s ${NAME_SERVICE_HOST}), got host "10.0.0.5"',
      'compose.yaml:28:28: services.d.x-herd.autoscale.redis_list.url: has a bad port "99999": expected 1-65535',
    ],
  );
});

test('parseRedisUrl: password, user, database, IPv6 loopback, the default port', () => {
  assert.deepEqual(parseRedisUrl('redis://127.0.0.1'), { host: '127.0.0.1', port: 6379 });
  assert.deepEqual(parseRedisUrl('redis://u:p%40ss@localhost:7000/3'), {
    host: 'localhost',
    port: 7000,
    db: 3,
    username: 'u',
    password: 'p@ss',
  });
  assert.deepEqual(parseRedisUrl('redis://[::1]:7001'), { host: '::1', port: 7001 });
  assert.match(String(parseRedisUrl('redis://127.0.0.1:6379/x')), /bad database "x"/);
  assert.match(String(parseRedisUrl('redis://:6379')), /has no host/);
  assert.equal(checkRedisUrl('redis://${QUEUE_SERVICE_HOST}:${QUEUE_SERVICE_PORT}'), undefined);
});

test('resolve: a service variable becomes the balancer address of that service', () => {
  const project = makeProject([makeService('job-queue'), makeService('worker')]);
  const url = 'redis://${JOB_QUEUE_SERVICE_HOST}:${JOB_QUEUE_SERVICE_PORT}/1';
  assert.deepEqual(resolve(project, url, { 'job-queue': { host: '127.0.0.1', port: 41000 } }), {
    host: '127.0.0.1',
    port: 41000,
    db: 1,
  });
  assert.deepEqual(resolve(project, url, { 'job-queue': { host: '::1', port: 41000 } }), {
    host: '::1',
    port: 41000,
    db: 1,
  });
  assert.throws(() => resolve(project, url, {}), /service "job-queue" has no address yet/);
  assert.throws(
    () => resolve(project, 'redis://${CACHE_SERVICE_HOST}:1', {}),
    /no service is called cache/,
  );
  assert.throws(
    () => resolve(project, url, { 'job-queue': { host: '192.168.1.9', port: 41000 } }),
    /must point at this machine/,
  );
});
