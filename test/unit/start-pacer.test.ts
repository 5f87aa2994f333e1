// Replica starts in small batches: the next start waits for a booting replica to be ready, gone,
// or past its hold time.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StartPacer, defaultBatch } from '../../src/daemon/start-pacer.ts';
import type { ReplicaInfo } from '../../src/engine/events.ts';
import type { ReplicaHandle, ReplicaSpec, Runtime } from '../../src/runtime/types.ts';

const spec = (index: number) => ({ service: 'web', index, name: `p-web-${index}` }) as ReplicaSpec;
const info = (index: number, state: ReplicaInfo['state'] = 'running') =>
  ({ service: 'web', index, name: `p-web-${index}`, state }) as ReplicaInfo;

function recorder(): { rt: Runtime; started: number[] } {
  const started: number[] = [];
  const rt: Runtime = {
    kind: 'process',
    start: async (s) => {
      started.push(s.index);
      return {} as ReplicaHandle;
    },
  };
  return { rt, started };
}

const tick = () => new Promise((r) => setTimeout(r, 10));

describe('StartPacer', () => {
  it('lets `batch` replicas boot at once; a ready or exited one lets the next start', async () => {
    const pacer = new StartPacer(2, 60_000);
    const { rt, started } = recorder();
    const paced = pacer.wrap(rt);
    assert.equal(pacer.wrap(rt), paced);
    assert.equal(paced.adopt, undefined);
    const all = [1, 2, 3, 4, 5].map((i) => paced.start(spec(i)));
    await tick();
    assert.deepEqual(started, [1, 2]);
    pacer.onEvent({ type: 'ready', at: 0, replica: info(1) });
    await tick();
    assert.deepEqual(started, [1, 2, 3]);
    pacer.onEvent({ type: 'replica', at: 0, replica: info(2, 'running') });
    await tick();
    assert.deepEqual(started, [1, 2, 3], 'running is not ready yet');
    pacer.onEvent({ type: 'replica', at: 0, replica: info(2, 'backoff') });
    pacer.onEvent({ type: 'ready', at: 0, replica: info(3) });
    await tick();
    assert.deepEqual(started, [1, 2, 3, 4, 5]);
    await Promise.all(all);
  });

  it('a replica that takes longer than the hold time to be ready lets the next one start', async () => {
    const pacer = new StartPacer(1, 30);
    const { rt, started } = recorder();
    const paced = pacer.wrap(rt);
    void paced.start(spec(1));
    void paced.start(spec(2));
    await tick();
    assert.deepEqual(started, [1]);
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(started, [1, 2]);
  });

  it('boots two per core, at least four', () => {
    assert.equal(defaultBatch(1), 4);
    assert.equal(defaultBatch(2), 4);
    assert.equal(defaultBatch(8), 16);
  });
});
