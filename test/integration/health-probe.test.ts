import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runProbe, type ProbeContext } from '../../src/health/probe.ts';
import { tempDir } from '../helpers/tmp.ts';

const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

let dir: string;
before(() => {
  dir = realpathSync(tempDir('probe'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function ctx(extra: Partial<ProbeContext> = {}): ProbeContext {
  return { env: baseEnv, cwd: dir, timeoutMs: 5000, ...extra };
}

/** Live (non-zombie) processes in a process group, read from /proc. */
function liveMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // Fields after "(comm)": state ppid pgrp ...
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') pids.push(Number(entry));
  }
  return pids;
}

describe('runProbe with real processes', () => {
  it('CMD runs argv directly: exit 0 is success, output captured', async () => {
    const r = await runProbe({ kind: 'exec', argv: ['echo', '$HOME', 'ok'] }, ctx());
    assert.equal(r.exitCode, 0);
    // No shell: "$HOME" is passed literally.
    assert.equal(r.output, '$HOME ok\n');
    assert.ok(r.end >= r.start);
  });

  it('CMD reports a non-zero exit code and stderr as a failure', async () => {
    const r = await runProbe(
      { kind: 'exec', argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'] },
      ctx(),
    );
    assert.equal(r.exitCode, 3);
    assert.equal(r.output, 'out\nerr\n');
  });

  describe('CMD-SHELL with $PORT from the replica env', () => {
    let server: Server;
    let healthy = true;
    before(async () => {
      server = createServer((req, res) => {
        res.statusCode = req.url === '/health' && healthy ? 200 : 503;
        res.end(healthy ? 'ok' : 'down');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('expands $PORT through /bin/sh and follows the server state', async () => {
      const port = (server.address() as AddressInfo).port;
      // What `curl -f http://127.0.0.1:$$PORT/health` becomes after Compose interpolation.
      const test = { kind: 'shell' as const, command: 'curl -fsS http://127.0.0.1:$PORT/health' };
      const env = { ...baseEnv, PORT: String(port) };
      healthy = true;
      const up = await runProbe(test, ctx({ env }));
      assert.equal(up.exitCode, 0);
      assert.equal(up.output, 'ok');
      healthy = false;
      const down = await runProbe(test, ctx({ env }));
      assert.equal(down.exitCode, 22); // curl -f: HTTP error
      assert.match(down.output, /503/);
    });
  });

  it('runs a plain-string test through the shell (pipes, &&, variables)', async () => {
    const r = await runProbe(
      { kind: 'shell', command: 'echo "$GREETING" | tr a-z A-Z && test -n "$GREETING"' },
      ctx({ env: { ...baseEnv, GREETING: 'hello' } }),
    );
    assert.equal(r.exitCode, 0);
    assert.equal(r.output, 'HELLO\n');
  });

  it('uses exactly the given env, not herd’s own', async () => {
    process.env.HERD_PROBE_LEAK_CHECK = 'leaked';
    try {
      const r = await runProbe(
        { kind: 'shell', command: 'echo "${HERD_PROBE_LEAK_CHECK-unset}"' },
        ctx(),
      );
      assert.equal(r.output, 'unset\n');
    } finally {
      delete process.env.HERD_PROBE_LEAK_CHECK;
    }
  });

  it('runs in the given working directory', async () => {
    const r = await runProbe({ kind: 'exec', argv: ['pwd'] }, ctx());
    assert.equal(r.output, `${dir}\n`);
  });

  it('kills a probe past its timeout together with its children', async () => {
    const pidFile = join(dir, 'pgid');
    const started = Date.now();
    const r = await runProbe(
      { kind: 'shell', command: `echo $$ > ${pidFile}; sleep 30 & sleep 30` },
      ctx({ timeoutMs: 400 }),
    );
    const took = Date.now() - started;
    assert.equal(r.exitCode, -1);
    assert.equal(r.output, 'Health check exceeded timeout (400ms)');
    assert.ok(took >= 400 && took < 3000, `took ${took} ms`);
    const pgid = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(pgid > 1);
    // SIGKILL is delivered at once but reaping may lag a moment.
    const deadline = Date.now() + 2000;
    while (liveMembers(pgid).length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(liveMembers(pgid), []);
  });

  it('keeps the output printed before the timeout', async () => {
    const r = await runProbe(
      { kind: 'shell', command: 'echo checking; sleep 30' },
      ctx({ timeoutMs: 300 }),
    );
    assert.equal(r.exitCode, -1);
    assert.equal(r.output, 'Health check exceeded timeout (300ms): checking\n');
  });

  it('reports a command that does not exist as a failure with a clear message', async () => {
    const r = await runProbe({ kind: 'exec', argv: ['herd-no-such-command', '-x'] }, ctx());
    assert.equal(r.exitCode, 127);
    assert.match(r.output, /could not start: executable "herd-no-such-command" was not found/);
    const viaShell = await runProbe({ kind: 'shell', command: 'herd-no-such-command' }, ctx());
    assert.equal(viaShell.exitCode, 127);
    assert.match(viaShell.output, /herd-no-such-command.*not found/);
  });

  it('reports a missing working directory clearly', async () => {
    const r = await runProbe({ kind: 'exec', argv: ['true'] }, ctx({ cwd: join(dir, 'gone') }));
    assert.notEqual(r.exitCode, 0);
    assert.match(r.output, /working directory .*gone does not exist/);
  });

  it('runs as the given uid/gid', async () => {
    const r = await runProbe(
      { kind: 'shell', command: 'echo "$(id -u) $(id -g)"' },
      ctx({ uid: 65534, gid: 65534 }),
    );
    assert.equal(r.exitCode, 0);
    assert.equal(r.output, '65534 65534\n');
  });

  it('caps the output at 4 KiB like dockerd', async () => {
    const r = await runProbe(
      { kind: 'shell', command: 'head -c 10000 /dev/zero | tr "\\0" a' },
      ctx(),
    );
    assert.equal(r.exitCode, 0);
    assert.equal(r.output, `${'a'.repeat(4096)}...`);
  });

  it('reports death by signal as 128 + signal number', async () => {
    const r = await runProbe({ kind: 'shell', command: 'kill -TERM $$' }, ctx());
    assert.equal(r.exitCode, 143);
  });

  it('kills the probe when its abort signal fires', async () => {
    const abort = new AbortController();
    const started = Date.now();
    setTimeout(() => abort.abort(), 200);
    const r = await runProbe({ kind: 'shell', command: 'sleep 30' }, ctx({ signal: abort.signal }));
    assert.equal(r.exitCode, -1);
    assert.equal(r.output, 'health probe cancelled');
    assert.ok(Date.now() - started < 3000);
  });
});
