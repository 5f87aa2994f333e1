import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canTransition, transition, IllegalTransitionError } from '../../src/engine/lifecycle.ts';

test('the normal life of a replica is allowed', () => {
  const path = [
    'waiting',
    'starting',
    'running',
    'backoff',
    'starting',
    'running',
    'stopping',
    'exited',
  ] as const;
  for (let i = 1; i < path.length; i++) assert.equal(transition(path[i - 1]!, path[i]!), path[i]);
});

test('illegal transitions throw, naming the replica and both states', () => {
  assert.throws(
    () => transition('waiting', 'running', 'p-web-1'),
    (err: unknown) => {
      assert.ok(err instanceof IllegalTransitionError);
      assert.match((err as Error).message, /waiting → running for p-web-1/);
      return true;
    },
  );
  assert.equal(canTransition('removed', 'starting'), false);
  assert.equal(canTransition('running', 'starting'), false);
  assert.equal(canTransition('exited', 'running'), false);
});

test('scale-down and restart paths', () => {
  assert.ok(canTransition('stopping', 'removed'));
  assert.ok(canTransition('backoff', 'removed'));
  assert.ok(canTransition('stopping', 'backoff'));
  assert.ok(canTransition('exited', 'waiting'));
  // Exited by itself while being drained.
  assert.ok(canTransition('running', 'removed'));
});
