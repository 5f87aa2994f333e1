import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogPrinter, replicaLabel, shouldColor } from '../../src/logs/printer.ts';
import type { EngineEvent, ReplicaInfo } from '../../src/engine/events.ts';

function capture(color: boolean, names?: string[]) {
  const out: string[] = [];
  const p = new LogPrinter({ color, write: (t) => out.push(t), names });
  return { p, out };
}

const output = (service: string, name: string, line: string) =>
  ({ type: 'output', at: 0, service, name, stream: 'stdout', line }) as const;

test('prefixes lines with the padded replica name, like docker compose', () => {
  const { p, out } = capture(false, ['web-1', 'worker-1']);
  p.handle(output('web', 'proj-web-1', 'hello'));
  p.handle(output('worker', 'proj-worker-1', 'tick'));
  assert.deepEqual(out, ['web-1     | hello\n', 'worker-1  | tick\n']);
});

test('the same replica always gets the same colour; the text stays uncoloured', () => {
  const a = capture(true);
  a.p.handle(output('web', 'x-web-2', 'one'));
  a.p.handle(output('web', 'x-web-2', 'two'));
  const ESC = String.fromCharCode(27);
  const colour = (s: string) => (s.startsWith(`${ESC}[`) ? s.slice(2, s.indexOf('m')) : undefined);
  assert.ok(colour(a.out[0]!));
  assert.equal(colour(a.out[0]!), colour(a.out[1]!));
  assert.ok(a.out[0]!.endsWith('\x1b[0m one\n'));
});

test('notices print as their own lines', () => {
  const { p, out } = capture(false);
  p.handle({
    type: 'notice',
    at: 0,
    service: 'web',
    name: 'x-web-2',
    message: 'web-2 exited with code 137',
  });
  assert.deepEqual(out, ['web-2 exited with code 137\n']);
});

test('colour only on a TTY, without --no-color and without NO_COLOR', () => {
  assert.equal(shouldColor(true, true, {}), true);
  assert.equal(shouldColor(true, false, {}), false);
  assert.equal(shouldColor(false, true, {}), false);
  assert.equal(shouldColor(true, true, { NO_COLOR: '1' }), false);
  assert.equal(shouldColor(true, true, { NO_COLOR: '' }), true);
});

test('labels drop the project prefix, even when the project name has dashes', () => {
  assert.equal(replicaLabel('web', 'my-app-web-3'), 'web-3');
  assert.equal(replicaLabel('api-v2', 'p-api-v2-1'), 'api-v2-1');
});

const replica = (over: Partial<ReplicaInfo>): EngineEvent => ({
  type: 'replica',
  at: 0,
  replica: {
    service: 'web',
    index: 2,
    name: 'p-web-2',
    state: 'running',
    health: 'starting',
    host: '127.0.0.1',
    ports: {},
    restarts: 0,
    ...over,
  },
});

test('health changes print once each, with the failing probe output', () => {
  const { p, out } = capture(false);
  p.handle(replica({ health: 'starting' }));
  p.handle(replica({ health: 'healthy' }));
  p.handle(replica({ health: 'healthy' }));
  p.handle(replica({ health: 'unhealthy', healthOutput: 'curl: (7) refused\nretrying' }));
  assert.deepEqual(out, ['web-2 is healthy\n', 'web-2 is unhealthy: curl: (7) refused retrying\n']);
});

test('a replica stopped on purpose prints its exit code; a crash is left to the notices', () => {
  const { p, out } = capture(false);
  p.handle(replica({ state: 'stopping' }));
  p.handle(replica({ state: 'exited', lastExit: { exitCode: 0 } }));
  p.handle(replica({ state: 'waiting' }));
  p.handle(replica({ state: 'running' }));
  p.handle(replica({ state: 'backoff', lastExit: { exitCode: 1 } }));
  assert.deepEqual(out, ['web-2 exited with code 0\n']);
});
