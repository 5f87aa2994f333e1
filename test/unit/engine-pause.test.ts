// `herd pause`/`unpause`/`rm` in the replica state machine: pure steps, no runtime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { step, type MachineContext } from '../../src/engine/replica-machine.ts';
import { newSlot, type Phase, type Slot } from '../../src/engine/slot.ts';
import type { ReplicaHandle } from '../../src/runtime/types.ts';
import { makeService } from '../helpers/project.ts';
import { formatStatus, composeState } from '../../src/cli/format/status.ts';

const base = makeService('web');
const always = makeService('web', {
  restart: { ...base.restart, condition: 'always' },
  herd: { ...base.herd, healUnhealthy: true },
});
const ctx: MachineContext = {
  service: always,
  now: 10_000,
  shuttingDown: false,
  active: true,
  successorRunning: false,
};
const handle = { id: 'h', pid: 42 } as unknown as ReplicaHandle;
const kinds = (actions: { do: string }[]) => actions.map((a) => a.do);

function slotIn(phase: Phase, over: Partial<Slot> = {}): Slot {
  const slot = newSlot('p', 'web', 1);
  slot.phase = phase;
  slot.info.state = phase === 'draining' ? 'running' : phase;
  return Object.assign(slot, over);
}

test('pause: a ready replica leaves the pool (unready "paused"), is unwatched and frozen', () => {
  const r = step(slotIn('running', { ready: true, handle }), { type: 'pause' }, ctx);
  assert.equal(r.to, undefined);
  assert.equal(r.facts?.paused, true);
  assert.equal(r.facts?.ready, false);
  assert.equal(r.facts?.info?.paused, true);
  assert.deepEqual(kinds(r.actions), ['announce', 'unwatch', 'pause', 'emit']);
  assert.deepEqual(r.actions[0], { do: 'announce', ready: false, reason: 'paused' });
  // twice, or in another phase: nothing
  assert.deepEqual(step(slotIn('running', { paused: true, handle }), { type: 'pause' }, ctx), {
    actions: [],
  });
  for (const phase of ['starting', 'draining', 'stopping', 'backoff', 'exited'] as Phase[])
    assert.deepEqual(step(slotIn(phase, { handle }), { type: 'pause' }, ctx), { actions: [] });
});

test('while paused, health and listening answers change nothing (no health kill, no rejoin)', () => {
  const paused = slotIn('running', { paused: true, handle });
  for (const status of ['healthy', 'unhealthy'] as const)
    assert.deepEqual(step(paused, { type: 'health', status }, ctx), { actions: [] });
  assert.deepEqual(step(paused, { type: 'listening' }, ctx), { actions: [] });
  // the same unhealthy answer unpaused does stop it
  const live = step(slotIn('running', { handle }), { type: 'health', status: 'unhealthy' }, ctx);
  assert.ok(kinds(live.actions).includes('stop-self'));
});

test('unpause thaws and watches again; a new start clears paused', () => {
  const r = step(slotIn('running', { paused: true, handle }), { type: 'unpause' }, ctx);
  assert.equal(r.facts?.paused, false);
  assert.deepEqual(kinds(r.actions), ['resume', 'emit', 'watch']);
  assert.deepEqual(step(slotIn('running', { handle }), { type: 'unpause' }, ctx), { actions: [] });
  const started = step(
    slotIn('starting', { paused: true }),
    { type: 'started', handle, adopted: false },
    ctx,
  );
  assert.equal(started.facts?.paused, false);
});

test('forget: only an exited replica is removed', () => {
  const r = step(slotIn('exited'), { type: 'forget' }, ctx);
  assert.equal(r.to, 'removed');
  assert.deepEqual(kinds(r.actions), ['remove', 'drop-successor']);
  assert.deepEqual(step(slotIn('running', { handle }), { type: 'forget' }, ctx), { actions: [] });
});

test('ps words a paused replica as Docker does', () => {
  const r = { state: 'running', health: 'healthy', startedAt: 0, paused: true } as const;
  assert.equal(formatStatus(r, 5 * 60_000), 'Up 5 minutes (Paused)');
  assert.equal(composeState(r), 'paused');
  assert.equal(composeState({ ...r, paused: undefined }), 'running');
});
