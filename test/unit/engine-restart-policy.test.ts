import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideRestart, type RestartInput } from '../../src/engine/restart-policy.ts';
import type { RestartPolicy } from '../../src/compose/model.ts';

function decide(policy: RestartPolicy, exitCode: number, over: Partial<RestartInput> = {}) {
  return decideRestart({
    policy,
    exit: { exitCode },
    attempts: 0,
    uptimeMs: 50,
    stoppedByUser: false,
    ...over,
  });
}

test('no: never restarts, whatever the exit code', () => {
  for (const code of [0, 1, 137]) {
    const d = decide({ condition: 'no' }, code);
    assert.equal(d.restart, false);
    assert.match(d.reason, /restart: no/);
  }
});

test('always and unless-stopped restart after success and failure', () => {
  for (const condition of ['always', 'unless-stopped'] as const) {
    assert.equal(decide({ condition }, 0).restart, true);
    assert.equal(decide({ condition }, 1).restart, true);
    assert.match(decide({ condition }, 137).reason, new RegExp(`restart: ${condition}`));
  }
});

test('on-failure restarts only a non-zero exit', () => {
  assert.equal(decide({ condition: 'on-failure' }, 0).restart, false);
  assert.match(decide({ condition: 'on-failure' }, 0).reason, /completed: exit 0/);
  assert.equal(decide({ condition: 'on-failure' }, 2).restart, true);
  assert.equal(decide({ condition: 'on-failure' }, 143).restart, true);
});

test('a start error counts as a failure', () => {
  const d = decideRestart({
    policy: { condition: 'on-failure' },
    exit: { exitCode: 127, startError: 'command not found: x (PATH=/bin)' },
    attempts: 0,
    uptimeMs: 0,
    stoppedByUser: false,
  });
  assert.equal(d.restart, true);
  assert.match(d.reason, /command not found: x/);
});

test('stopped by the user: never restarted, even under always', () => {
  const d = decide({ condition: 'always' }, 137, { stoppedByUser: true });
  assert.equal(d.restart, false);
  assert.equal(d.reason, 'stopped');
});

test('on-failure:N gives up after N restarts with the reason', () => {
  const policy: RestartPolicy = { condition: 'on-failure', maxAttempts: 2 };
  let attempts = 0;
  const outcomes: boolean[] = [];
  let last = '';
  for (let i = 0; i < 4; i++) {
    const d = decide(policy, 1, { attempts });
    attempts = d.attempts;
    outcomes.push(d.restart);
    last = d.reason;
  }
  assert.deepEqual(outcomes, [true, true, false, false]);
  assert.equal(last, 'gave up after 2 restarts: exit 1');
});

test('max_attempts applies to condition any (always) too', () => {
  const d = decide({ condition: 'always', maxAttempts: 5 }, 1, { attempts: 5 });
  assert.equal(d.restart, false);
  assert.equal(d.reason, 'gave up after 5 restarts: exit 1');
});

test('window: a restart that stayed up for the window does not count', () => {
  const policy: RestartPolicy = { condition: 'on-failure', maxAttempts: 1, windowMs: 5000 };
  // Short run after one restart: exhausted.
  assert.equal(decide(policy, 1, { attempts: 1, uptimeMs: 4999 }).restart, false);
  // Stayed up for the window: the earlier restart succeeded, the count starts again.
  const d = decide(policy, 1, { attempts: 1, uptimeMs: 5000 });
  assert.equal(d.restart, true);
  assert.equal(d.attempts, 1);
});

test('without a window, long uptime does not reset the count', () => {
  const d = decide({ condition: 'on-failure', maxAttempts: 1 }, 1, {
    attempts: 1,
    uptimeMs: 3_600_000,
  });
  assert.equal(d.restart, false);
});

test('an OOM kill is described as such', () => {
  const d = decideRestart({
    policy: { condition: 'no' },
    exit: { exitCode: 137, oomKilled: true },
    attempts: 0,
    uptimeMs: 10,
    stoppedByUser: false,
  });
  assert.match(d.reason, /memory limit exceeded \(exit 137\)/);
});

test('on-failure restarts a replica herd stopped as unhealthy, even when it exited 0', () => {
  const d = decide({ condition: 'on-failure' }, 0, { unhealthy: true });
  assert.equal(d.restart, true);
  assert.match(d.reason, /unhealthy/);
  assert.equal(decide({ condition: 'no' }, 0, { unhealthy: true }).restart, false);
});
