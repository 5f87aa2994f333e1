// The daemon checks what a proxy primary sends on the control channel, as the CLI checks the
// daemon's replies: a reply or notice that does not fit the protocol is refused with what is
// wrong (a failed request, one warning), never a TypeError later. A real unix socket speaking the
// protocol plays the primary; a real `sleep` stands in for its process.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_HTTP_LIMITS } from '../../src/proxy/index.ts';
import { ProcessPlane } from '../../src/proxy/process/process-plane.ts';
import { CONTROL_SOCKET } from '../../src/proxy/process/protocol.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('proxy channel: replies herd does not understand', () => {
  let dir: string;
  let server: net.Server;
  let stand: ChildProcess;
  const warnings: string[] = [];
  let plane: ProcessPlane;
  /** How the fake primary answers each request op. */
  const answers: Record<string, (id: number) => object> = {};

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'herd-pcr-'));
    stand = spawn('sleep', ['60'], { stdio: 'ignore' });
    server = net.createServer((sock) => {
      const send = (m: object) => sock.write(JSON.stringify(m) + '\n');
      send({ ev: 'hello', pid: stand.pid, workers: [], listeners: [] });
      // Pushed counters that are not a list, and a notice of a kind herd does not know.
      send({ ev: 'counters', stats: {} });
      send({ ev: 'counters', stats: {} });
      send({ ev: 'surprise' });
      let buf = '';
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => {
        buf += d;
        for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) {
          const m = JSON.parse(buf.slice(0, i)) as { id?: number; op: string };
          if (m.id !== undefined) send(answers[m.op]?.(m.id) ?? { id: m.id, ok: true });
        }
      });
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(path.join(dir, CONTROL_SOCKET), r));
    plane = new ProcessPlane({
      dir,
      workers: 1,
      settings: { limits: DEFAULT_HTTP_LIMITS, sniffMs: 300, upstreamIdleMs: 4000, slowStartMs: 0 },
      warn: (m) => warnings.push(m),
    });
    await plane.start();
    assert.equal(plane.adopted, true, 'the fake primary was taken for a running one');
  });

  after(async () => {
    stand.kill('SIGKILL');
    await new Promise((r) => stand.once('exit', r));
    await plane.shutdown();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a bad pushed notice is ignored with one warning naming the socket and the field', async () => {
    for (let i = 0; i < 50 && warnings.length < 2; i++) await sleep(20);
    const socket = path.join(dir, CONTROL_SOCKET);
    const about = (s: string) => warnings.filter((w) => w.includes(s));
    assert.equal(
      about('the counters notice.stats is object, not a list').length,
      1,
      warnings.join('\n'),
    );
    assert.match(
      about('counters')[0]!,
      new RegExp(
        `^proxy: the proxy process at ${socket} answered something herd does not understand`,
      ),
    );
    assert.equal(about(`the notice's ev is "surprise", not one herd knows`).length, 1);
    assert.deepEqual(plane.stats(), [], 'the last counters are still a list');
  });

  it('a reply without what its request needs fails that request, with the reason', async () => {
    answers.open = (id) => ({ id, ok: true }); // no port
    const spec = {
      id: 'l1',
      service: 'web',
      host: '127.0.0.1',
      port: 0,
      mode: 'http' as const,
      lb: { algorithm: 'round_robin' as const },
    };
    await assert.rejects(plane.open(spec), /does not understand \(the open reply has no port\)/);
    answers.open = (id) => ({ id, ok: 'yes', port: 1 });
    await assert.rejects(plane.open(spec), /\(the reply\.ok is string, not true or false\)/);
  });

  it('counters() keeps the last good figures when the answer is not a list', async () => {
    answers.counters = (id) => ({ id, ok: true, stats: 'many' });
    assert.deepEqual(await plane.counters(), []);
    answers.counters = (id) => ({
      id,
      ok: true,
      stats: [
        {
          replica: 'web-1',
          service: 'web',
          requests: 3,
          errors: 0,
          inFlight: 0,
          connections: 0,
          latencyBuckets: [3],
          latencySumMs: 1,
        },
      ],
    });
    const got = await plane.counters();
    assert.equal(got[0]?.requests, 3, 'a well-formed answer passes');
  });
});
