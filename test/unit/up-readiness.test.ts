// When `up -d` / `up --wait` consider the stack started or ready, from what `ps` reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judge } from '../../src/cli/up/readiness.ts';
import type { PsReplica, PsResponse } from '../../src/daemon/api-types.ts';

function replica(service: string, index: number, over: Partial<PsReplica> = {}): PsReplica {
  return {
    service,
    index,
    name: `p-${service}-${index}`,
    state: 'running',
    health: 'none',
    host: '127.0.0.1',
    ports: {},
    restarts: 0,
    pid: 100 + index,
    ...over,
  };
}

function ps(
  services: { name: string; scale: number; stopped?: boolean }[],
  replicas: PsReplica[],
): PsResponse {
  return {
    project: 'p',
    now: 0,
    services: services.map((s) => ({ ports: [], expose: [], stopped: false, ...s })),
    replicas,
  };
}

test('ready: every replica running, healthy where checked, one-shots completed', () => {
  const r = judge(
    ps(
      [
        { name: 'web', scale: 2 },
        { name: 'init', scale: 1 },
      ],
      [
        replica('web', 1, { health: 'healthy' }),
        replica('web', 2),
        replica('init', 1, { state: 'exited', lastExit: { exitCode: 0 } }),
      ],
    ),
    ['init', 'web'],
    'ready',
  );
  assert.deepEqual(r, { done: true, failed: [], pending: [] });
});

test('not ready: a missing replica, a health check still starting, a backoff', () => {
  const r = judge(
    ps(
      [{ name: 'web', scale: 3 }],
      [
        replica('web', 1, { health: 'starting' }),
        replica('web', 2, { state: 'backoff', reason: 'exit 1, restarting in 200ms' }),
      ],
    ),
    ['web'],
    'ready',
  );
  assert.equal(r.done, false);
  assert.deepEqual(r.failed, []);
  assert.deepEqual(r.pending, [
    'web-1 is not healthy yet',
    'web-2 is backoff (exit 1, restarting in 200ms)',
    'web-3 is not created yet',
  ]);
});

test('failed: exited non-zero, could not start, never started', () => {
  const r = judge(
    ps(
      [
        { name: 'job', scale: 1 },
        { name: 'bad', scale: 1 },
        { name: 'app', scale: 1 },
      ],
      [
        replica('job', 1, { state: 'exited', lastExit: { exitCode: 3 } }),
        replica('bad', 1, { state: 'exited', lastExit: { exitCode: 126, startError: 'ENOENT' } }),
        replica('app', 1, { state: 'exited', reason: 'job did not complete successfully' }),
      ],
    ),
    ['job', 'bad', 'app'],
    'ready',
  );
  assert.deepEqual(r.failed, [
    'job-1 exited with code 3',
    'bad-1 could not start: ENOENT',
    'app-1 was not started: job did not complete successfully',
  ]);
});

test('ready: a replica that could not start and waits to retry fails at once; a crash waits', () => {
  const r = judge(
    ps(
      [
        { name: 'typo', scale: 1 },
        { name: 'crash', scale: 1 },
      ],
      [
        replica('typo', 1, {
          state: 'backoff',
          pid: undefined,
          reason: 'restarting in 200ms',
          lastExit: { exitCode: 126, startError: 'command not found: herd-nope' },
        }),
        replica('crash', 1, {
          state: 'backoff',
          pid: undefined,
          reason: 'exit 1, restarting in 200ms',
          lastExit: { exitCode: 1 },
        }),
      ],
    ),
    ['typo', 'crash'],
    'ready',
  );
  assert.deepEqual(r.failed, ['typo-1 could not start: command not found: herd-nope']);
  assert.deepEqual(r.pending, ['crash-1 is backoff (exit 1, restarting in 200ms)']);
  // `up -d` without --wait only waits for the start attempt
  assert.equal(
    judge(
      ps(
        [{ name: 'typo', scale: 1 }],
        [
          replica('typo', 1, {
            state: 'backoff',
            lastExit: { exitCode: 126, startError: 'command not found: herd-nope' },
          }),
        ],
      ),
      ['typo'],
      'started',
    ).done,
    true,
  );
});

test('stopped services and services not asked for are not awaited', () => {
  const r = judge(
    ps(
      [
        { name: 'web', scale: 1, stopped: true },
        { name: 'other', scale: 1 },
      ],
      [],
    ),
    ['web'],
    'ready',
  );
  assert.equal(r.done, true);
});

test('started: anything past waiting counts, even a failure', () => {
  const base = [{ name: 'web', scale: 2 }];
  assert.equal(
    judge(
      ps(base, [replica('web', 1, { state: 'waiting' }), replica('web', 2)]),
      ['web'],
      'started',
    ).done,
    false,
  );
  assert.equal(
    judge(
      ps(base, [
        replica('web', 1, { state: 'exited', lastExit: { exitCode: 1 } }),
        replica('web', 2, { health: 'starting' }),
      ]),
      ['web'],
      'started',
    ).done,
    true,
  );
});
