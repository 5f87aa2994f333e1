// The dashboard page's event lines (ui/dashboard/format.ts): each kind of event the stream carries
// says what happened and why, as `herd events` does.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventText, stateText } from '../../ui/dashboard/format.ts';
import type { HerdEvent } from '../../ui/dashboard/types.ts';

const replica = (fields: Partial<NonNullable<HerdEvent['replica']>>): HerdEvent => ({
  type: 'replica',
  at: 0,
  replica: { name: 'p-web-1', state: 'running', health: 'none', ...fields },
});

describe('dashboard event lines', () => {
  it('says how a replica exited and how its health changed', () => {
    assert.equal(eventText(replica({})), 'p-web-1 running');
    assert.equal(eventText(replica({ health: 'starting' })), 'p-web-1 running (starting)');
    assert.equal(eventText(replica({ health: 'unhealthy' })), 'p-web-1 running (unhealthy)');
    assert.equal(
      eventText(replica({ state: 'exited', health: 'unhealthy', lastExit: { signal: 'SIGKILL' } })),
      'p-web-1 exited (SIGKILL)',
    );
    assert.equal(
      eventText(
        replica({ state: 'backoff', lastExit: { exitCode: 3 }, reason: 'restarting in 2s' }),
      ),
      'p-web-1 backoff (exit 3): restarting in 2s',
    );
    assert.equal(
      eventText(replica({ state: 'exited', lastExit: { exitCode: 137, oomKilled: true } })),
      'p-web-1 exited (OOMKilled)',
    );
  });

  it('tells a scale by command from an autoscaler decision, with its reason', () => {
    const scaled: HerdEvent = { type: 'scaled', at: 0, service: 'web', from: 3, to: 4 };
    assert.equal(eventText(scaled), 'web scaled 3 → 4');
    const reason = 'rps 120/replica over 60s > target 50';
    assert.equal(
      eventText({ ...scaled, autoscale: { metric: 'rps', reason } }),
      `web autoscaled 3 → 4: ${reason}`,
    );
  });

  it('names updates, rolling restarts and rollbacks, and why one rolled back', () => {
    const update = (kind: string, state: string, message?: string): HerdEvent => ({
      type: 'update',
      at: 0,
      update: { service: 'web', kind, state, ...(message ? { message } : {}) },
    });
    assert.equal(eventText(update('restart', 'updating')), 'web rolling restart started');
    assert.equal(eventText(update('restart', 'completed')), 'web rolling restart completed');
    assert.equal(
      eventText(update('update', 'rolled back', 'web-2 exited (exit 1)\nlast lines…')),
      'web update rolled back: web-2 exited (exit 1)',
    );
    assert.equal(eventText(update('rollback', 'rolling back')), 'web rollback started');
    assert.equal(eventText(update('rollback', 'completed')), 'web rollback completed');
  });

  it('writes the state as ps does', () => {
    const r = { name: 'x', service: 'web', state: 'running', health: 'healthy', restarts: 0 };
    assert.equal(stateText(r), 'running (healthy)');
    assert.equal(stateText({ ...r, health: 'none' }), 'running');
  });
});
