// The replica state machine's table, step by step: pure, no runtime, no clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { step, TABLE, type MachineContext } from '../../src/engine/replica-machine.ts';
import { newSlot, type Phase, type Slot } from '../../src/engine/slot.ts';
import type { ReplicaHandle } from '../../src/runtime/types.ts';
import type { Service } from '../../src/compose/model.ts';
import { makeService } from '../helpers/project.ts';

function ctx(service: Service, over: Partial<MachineContext> = {}): MachineContext {
  return {
    service,
    now: 10_000,
    shuttingDown: false,
    active: true,
    successorRunning: false,
    ...over,
  };
}

function slotIn(phase: Phase, over: Partial<Slot> = {}): Slot {
  const slot = newSlot('p', 'web', 1);
  slot.phase = phase;
  slot.info.state = phase === 'draining' ? 'running' : phase;
  return Object.assign(slot, over);
}

const handle = { id: 'h', pid: 42 } as unknown as ReplicaHandle;
const always = makeService('web', { restart: { condition: 'always' } });
const kinds = (actions: { do: string }[]) => actions.map((a) => a.do);

test('a gated replica starts: starting, a new generation, the start action', () => {
  const r = step(
    slotIn('waiting', { generation: 3 }),
    { type: 'gate-open', without: [] },
    ctx(always),
  );
  assert.equal(r.to, 'starting');
  assert.equal(r.facts?.generation, 4);
  assert.deepEqual(kinds(r.actions), ['start']);
});

test('started: running and watched, or stopped at once when a stop came while starting', () => {
  const running = step(
    slotIn('starting'),
    { type: 'started', handle, adopted: false },
    ctx(always),
  );
  assert.equal(running.to, 'running');
  assert.equal(running.facts?.info?.pid, 42);
  assert.deepEqual(kinds(running.actions), ['watch']);
  const stopped = step(
    slotIn('starting', { stopIntent: 'stop' }),
    { type: 'started', handle, adopted: false },
    ctx(always),
  );
  assert.equal(stopped.to, 'stopping');
  assert.deepEqual(kinds(stopped.actions), ['signal-stop']);
});

test('an exit under restart: always backs off 100 ms, then doubles', () => {
  const first = step(
    slotIn('running', { handle, info: { ...newSlot('p', 'web', 1).info, startedAt: 9_900 } }),
    { type: 'exited', exit: { exitCode: 1 } },
    ctx(always),
  );
  assert.equal(first.to, 'backoff');
  assert.equal(first.facts?.attempts, 1);
  assert.deepEqual(first.actions.at(-1), { do: 'schedule-restart', delayMs: 100 });
  const second = step(
    slotIn('running', { handle, lastDelayMs: 100, attempts: 1 }),
    { type: 'exited', exit: { exitCode: 1 } },
    ctx(always),
  );
  assert.deepEqual(second.actions.at(-1), { do: 'schedule-restart', delayMs: 200 });
});

test('restart: no and on-failure with exit 0 stay exited; max_attempts gives up', () => {
  const no = step(
    slotIn('running', { handle }),
    { type: 'exited', exit: { exitCode: 1 } },
    ctx(makeService('web')),
  );
  assert.equal(no.to, 'exited');
  assert.match(no.reason ?? '', /restart: no/);
  const onFailure = makeService('web', { restart: { condition: 'on-failure', maxAttempts: 2 } });
  const done = step(
    slotIn('running', { handle }),
    { type: 'exited', exit: { exitCode: 0 } },
    ctx(onFailure),
  );
  assert.equal(done.to, 'exited');
  assert.match(done.reason ?? '', /completed/);
  const gaveUp = step(
    slotIn('running', { handle, attempts: 2 }),
    { type: 'exited', exit: { exitCode: 3 } },
    ctx(onFailure),
  );
  assert.equal(gaveUp.to, 'exited');
  const notice = gaveUp.actions.find((a) => a.do === 'notice');
  assert.match(notice && 'message' in notice ? notice.message : '', /gave up after 2 restarts/);
});

test('a ready replica is drained before it is signalled; its exit then follows the intent', () => {
  const ready = slotIn('running', { handle, ready: true });
  const drain = step(ready, { type: 'stop', intent: 'scale' }, ctx(always));
  assert.equal(drain.to, 'draining');
  assert.equal(drain.facts?.stopIntent, 'scale');
  assert.equal(drain.facts?.ready, false);
  assert.deepEqual(kinds(drain.actions), ['drain', 'announce']);
  const draining = slotIn('draining', { handle, stopIntent: 'scale' });
  const signal = step(draining, { type: 'drained' }, ctx(always));
  assert.equal(signal.to, 'stopping');
  assert.deepEqual(kinds(signal.actions), ['unwatch', 'signal-stop']);
  const gone = step(
    slotIn('stopping', { handle, stopIntent: 'scale' }),
    { type: 'exited', exit: { exitCode: 0 } },
    ctx(always),
  );
  assert.equal(gone.to, 'removed');
  assert.ok(kinds(gone.actions).includes('remove'));
  const stopped = step(
    slotIn('stopping', { handle, stopIntent: 'stop' }),
    { type: 'exited', exit: { exitCode: 143 } },
    ctx(always),
  );
  assert.equal(stopped.to, 'exited');
  assert.equal(stopped.reason, 'stopped');
});

test('a stop for scale-down wins over a restart under way, not the other way round', () => {
  const restarting = slotIn('stopping', { handle, stopIntent: 'restart' });
  assert.equal(
    step(restarting, { type: 'stop', intent: 'scale' }, ctx(always)).facts?.stopIntent,
    'scale',
  );
  const scaling = slotIn('stopping', { handle, stopIntent: 'scale' });
  assert.equal(
    step(scaling, { type: 'stop', intent: 'restart' }, ctx(always)).facts?.stopIntent,
    'scale',
  );
});

test('unhealthy leaves the pool and, with healing on, stops itself to be restarted', () => {
  const r = step(
    slotIn('running', { handle, ready: true }),
    { type: 'health', status: 'unhealthy', output: ' boom ' },
    ctx(always),
  );
  assert.equal(r.facts?.info?.health, 'unhealthy');
  assert.equal(r.facts?.info?.healthOutput, 'boom');
  assert.equal(r.facts?.ready, false);
  assert.deepEqual(kinds(r.actions), ['emit', 'announce', 'notice', 'stop-self']);
  // A health result while draining changes the health shown, never the pool.
  const draining = step(
    slotIn('draining', { handle }),
    { type: 'health', status: 'healthy' },
    ctx(always),
  );
  assert.equal(draining.facts?.ready, undefined);
});

test('herd kill: SIGKILL of a replica in backoff is a manual stop; other signals are just sent', () => {
  const manual = step(
    slotIn('backoff', { generation: 5 }),
    { type: 'kill', signal: 'SIGKILL', manual: true },
    ctx(always),
  );
  assert.equal(manual.to, 'exited');
  assert.equal(manual.facts?.generation, 6);
  const hup = step(
    slotIn('running', { handle }),
    { type: 'kill', signal: 'SIGHUP', manual: false },
    ctx(always),
  );
  assert.equal(hup.to, undefined);
  assert.deepEqual(hup.actions, [{ do: 'kill', signal: 'SIGHUP' }]);
  const killedExit = step(
    slotIn('running', { handle, killedWith: 'SIGKILL' }),
    { type: 'exited', exit: { exitCode: 137 } },
    ctx(always),
  );
  assert.equal(killedExit.to, 'exited');
  assert.equal(killedExit.reason, 'killed (SIGKILL)');
});

test('a replaced replica hands its slot over only to a running successor', () => {
  const old = slotIn('stopping', { handle, stopIntent: 'replaced' });
  const over = step(
    old,
    { type: 'exited', exit: { exitCode: 0 } },
    ctx(always, { successorRunning: true }),
  );
  assert.equal(over.to, 'removed');
  assert.ok(kinds(over.actions).includes('hand-over'));
  const alone = step(old, { type: 'exited', exit: { exitCode: 0 } }, ctx(always));
  assert.equal(alone.to, 'waiting');
  assert.ok(kinds(alone.actions).includes('drop-successor'));
});

test('shutting down: an exit is never restarted and a due backoff does not start', () => {
  const r = step(
    slotIn('running', { handle }),
    { type: 'exited', exit: { exitCode: 1 } },
    ctx(always, { shuttingDown: true }),
  );
  assert.equal(r.to, 'exited');
  const due = step(
    slotIn('backoff'),
    { type: 'backoff-elapsed' },
    ctx(always, { shuttingDown: true }),
  );
  assert.equal(due.to, undefined);
  assert.deepEqual(due.actions, []);
});

test('events a phase does not list are ignored (stale answers), and removed is final', () => {
  for (const type of Object.keys(TABLE.waiting))
    assert.ok(!['exited', 'started', 'health'].includes(type));
  assert.deepEqual(Object.keys(TABLE.removed), []);
  const r = step(slotIn('removed'), { type: 'exited', exit: { exitCode: 1 } }, ctx(always));
  assert.deepEqual(r, { actions: [] });
});
