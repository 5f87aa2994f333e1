// Process replicas writing their output to files (output-files.ts), with real processes: what the
// daemon reads from them, a replica that outlives its reader, a flood, and the files' removal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LogStore } from '../../src/logs/store.ts';
import { MAX_LINE } from '../../src/runtime/process/lines.ts';
import { captureFiles, openCapture, OutputTail } from '../../src/runtime/process/output-files.ts';
import { ProcessRuntime } from '../../src/runtime/process/process-runtime.ts';
import { resolveUser } from '../../src/runtime/process/user.ts';
import type { OutputStream, ReplicaSpec } from '../../src/runtime/types.ts';
import { longestLag } from '../helpers/loop-lag.ts';
import { tempDir } from '../helpers/tmp.ts';
import { pidAlive, waitUntil } from '../helpers/wait.ts';

const dir = tempDir('output-files');
const outputDir = join(dir, 'capture');
const runtime = new ProcessRuntime({ outputDir });

function spec(name: string, script: string): ReplicaSpec {
  return {
    project: 'p',
    service: 's',
    index: 1,
    name,
    command: [process.execPath, '-e', script],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cwd: dir,
    stopSignal: 'SIGTERM',
    stopGracePeriodMs: 2000,
  };
}

test("a replica's lines arrive from its files: both streams, the partial last line, a long line cut at the cap; the files go at its exit", async () => {
  const script = [
    'process.stdout.write("a\\nb\\r\\n");',
    'console.error("err 1");',
    'process.stdout.write("x".repeat(100000) + "\\n");',
    'console.error("err 2");',
    'process.stdout.write("partial");',
  ].join('');
  const h = await runtime.start(spec('p-s-1', script));
  const files = captureFiles(outputDir, 'p-s-1');
  assert.ok(existsSync(files.stdout) && existsSync(files.stderr), 'the capture files exist');
  assert.equal(statSync(files.stdout).mode & 0o777, 0o600);
  assert.equal(statSync(outputDir).mode & 0o777, 0o700);
  const lines: [OutputStream, string][] = [];
  h.onOutput((s, l) => lines.push([s, l]));
  assert.equal((await h.exited).exitCode, 0);
  const out = lines.filter(([s]) => s === 'stdout').map(([, l]) => l);
  const pieces = Math.ceil(100000 / MAX_LINE);
  assert.deepEqual(out.slice(0, 2), ['a', 'b']);
  assert.deepEqual(
    out.slice(2, 2 + pieces).map((l) => l.length),
    [...Array(pieces - 1).fill(MAX_LINE), 100000 - (pieces - 1) * MAX_LINE],
  );
  assert.ok(out.slice(2, 2 + pieces).every((l) => /^x+$/.test(l)));
  assert.deepEqual(out.slice(2 + pieces), ['partial']);
  assert.deepEqual(
    lines.filter(([s]) => s === 'stderr').map(([, l]) => l),
    ['err 1', 'err 2'],
  );
  assert.deepEqual(readdirSync(outputDir), [], 'the capture files are removed after the exit');
});

test('a replica running as another user writes to the files the daemon opened for it', async () => {
  const ids = resolveUser('postgres', 'db');
  assert.notEqual(ids.uid, 0);
  const h = await runtime.start({ ...spec('p-user-1', ''), command: ['id', '-u'], ...ids });
  const lines: string[] = [];
  h.onOutput((_s, l) => lines.push(l));
  assert.equal((await h.exited).exitCode, 0);
  assert.deepEqual(lines, [String(ids.uid)]);
});

test('a command that cannot start leaves no capture files', async () => {
  const h = await runtime.start({ ...spec('p-s-2', ''), command: ['/nonexistent/cmd'] });
  assert.ok((await h.exited).startError);
  assert.deepEqual(
    readdirSync(outputDir).filter((f) => f.startsWith('p-flood-1.')),
    [],
  );
});

/** A process writing numbered lines to its capture files (as the runtime spawns it), every 5 ms,
 * that exits 3 if a write fails (as a replica writing to a broken pipe would die). */
function counter(name: string): { pid: number; kill: () => void } {
  const [out, err] = openCapture(outputDir, name);
  const script = `let i = 0;
    setInterval(() => {
      try { process.stdout.write(i + '\\n'); if (i % 10 === 0) process.stderr.write('e' + i + '\\n'); }
      catch { process.exit(3); }
      i++;
    }, 5);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', out, err] });
  closeSync(out);
  closeSync(err);
  assert.ok(child.pid);
  return { pid: child.pid, kill: () => child.kill('SIGKILL') };
}

function numbers(lines: string[]): number[] {
  return lines.map(Number);
}

function assertContiguous(got: number[], what: string): void {
  got.forEach((n, i) => assert.equal(n, i, `${what}: line ${i} is ${n}`));
}

test('a replica keeps running and writing while no one reads; a resumed tail emits exactly what came since', async () => {
  const name = 'p-keep-1';
  const proc = counter(name);
  try {
    const first: Record<OutputStream, string[]> = { stdout: [], stderr: [] };
    const a = new OutputTail(outputDir, name, (s, l) => first[s].push(l));
    await waitUntil('40 lines', () => first.stdout.length >= 40, 5000);
    a.close(); // the daemon goes away (cleanly): the replica keeps its files
    const seenWhenClosed = first.stdout.length;
    const size = statSync(captureFiles(outputDir, name).stdout).size;
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(pidAlive(proc.pid), 'the replica still runs with no reader');
    assert.ok(statSync(captureFiles(outputDir, name).stdout).size > size, 'and still writes');
    assert.equal(first.stdout.length, seenWhenClosed, 'a closed tail emits nothing more');

    const second: Record<OutputStream, string[]> = { stdout: [], stderr: [] };
    const b = new OutputTail(outputDir, name, (s, l) => second[s].push(l), { resume: true });
    await waitUntil('80 more lines', () => second.stdout.length >= 80, 5000);
    proc.kill();
    b.close({ remove: true });
    // None lost, none repeated: the two tails together saw 0, 1, 2, … once each.
    assertContiguous(numbers([...first.stdout, ...second.stdout]), 'stdout');
    const err = [...first.stderr, ...second.stderr].map((l) => Number(l.slice(1)) / 10);
    assertContiguous(err, 'stderr');
    assert.ok(first.stdout.length > 0 && second.stdout.length > 0);
    assert.equal(existsSync(captureFiles(outputDir, name).stdout), false);
    assert.equal(existsSync(captureFiles(outputDir, name).position), false);
  } finally {
    proc.kill();
  }
});

test('a tail that dies (kill -9) loses nothing: the resumed one repeats at most the last moments', async () => {
  const name = 'p-crash-1';
  const proc = counter(name);
  // The first reader is a process of its own, killed mid-flow like a daemon.
  const reader = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `import { OutputTail } from ${JSON.stringify(new URL('../../src/runtime/process/output-files.ts', import.meta.url).pathname)};
       new OutputTail(${JSON.stringify(outputDir)}, ${JSON.stringify(name)}, (s, l) => { if (s === 'stdout') process.stdout.write(l + '\\n'); });
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    let text = '';
    reader.stdout.on('data', (c: Buffer) => (text += c.toString()));
    // Long enough that starting over from the start could not pass for a resume.
    await waitUntil('400 lines', () => text.split('\n').length > 400, 15000);
    reader.kill('SIGKILL');
    await new Promise((r) => reader.once('exit', r));
    const first = text.split('\n').slice(0, -1);
    const second: string[] = [];
    const b = new OutputTail(outputDir, name, (s, l) => s === 'stdout' && second.push(l), {
      resume: true,
    });
    await waitUntil('50 more lines', () => second.length >= 50, 5000);
    proc.kill();
    b.close({ remove: true });
    const firstNums = numbers(first);
    const secondNums = numbers(second);
    assertContiguous(firstNums, 'first reader');
    const resumedAt = secondNums[0]!;
    assertContiguous(
      secondNums.map((n) => n - resumedAt),
      'resumed reader',
    );
    assert.ok(resumedAt <= firstNums.length, `nothing lost: resumed at ${resumedAt}`);
    // A line every 5 ms, the position written every 250 ms while lines flow: ~50 at most, 150
    // with a loaded machine's delays.
    const repeated = firstNums.length - resumedAt;
    console.log(`# after the reader's kill -9: ${repeated} line(s) emitted again`);
    assert.ok(repeated < 150, `${repeated} lines repeated of ${firstNums.length}`);
  } finally {
    reader.kill('SIGKILL');
    proc.kill();
  }
});

test('a line arrives promptly (inotify), not at the next poll', async () => {
  const name = 'p-prompt-1';
  const [out, err] = openCapture(outputDir, name);
  // Writes a line each time it is told to.
  const script = `process.stdin.on('data', (d) => process.stdout.write(String(d)));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', out, err] });
  closeSync(out);
  closeSync(err);
  const stdin = child.stdin;
  assert.ok(stdin);
  try {
    let resolveLine: ((l: string) => void) | undefined;
    const tail = new OutputTail(outputDir, name, (_s, l) => resolveLine?.(l));
    // Once first, so the child's start is not counted.
    const ready = new Promise<string>((r) => (resolveLine = r));
    stdin.write('ready\n');
    assert.equal(await ready, 'ready');
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const got = new Promise<string>((r) => (resolveLine = r));
      const sent = performance.now();
      stdin.write(`line ${i}\n`);
      assert.equal(await got, `line ${i}`);
      latencies.push(performance.now() - sent);
      await new Promise((r) => setTimeout(r, 20));
    }
    tail.close({ remove: true });
    latencies.sort((a, b) => a - b);
    console.log(
      `# write → line: median ${latencies[5]!.toFixed(1)} ms, max ${latencies[9]!.toFixed(1)} ms`,
    );
    // The safety poll alone (every 1 s) would put most of ten lines past 250 ms.
    assert.ok(latencies[9]! < 250, `a line took ${latencies[9]!.toFixed(0)} ms`);
  } finally {
    child.kill('SIGKILL');
  }
});

test('what the tail has read and persisted is given back to the disk while the replica runs', async () => {
  const name = 'p-reclaim-1';
  const [out, err] = openCapture(outputDir, name);
  // 4 MB of numbered lines, then it stays alive, holding its files.
  const script = `const fs = require('fs'); let text = '';
    for (let i = 0; i < 100000; i++) text += String(i).padStart(39, '0') + '\\n';
    fs.writeSync(1, text); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', out, err] });
  closeSync(out);
  closeSync(err);
  try {
    const lines: string[] = [];
    const tail = new OutputTail(outputDir, name, (_s, l) => lines.push(l), {
      reclaimBytes: 256 * 1024,
    });
    await waitUntil('all lines', () => lines.length === 100000, 10000);
    const file = captureFiles(outputDir, name).stdout;
    // The position is written within 250 ms, the hole punched right after.
    const disk = await waitUntil(
      'blocks given back',
      () => {
        const st = statSync(file);
        return st.blocks * 512 < 256 * 1024 && st;
      },
      5000,
    );
    assert.equal(disk.size, 4_000_000, 'the offsets are unchanged');
    assertContiguous(numbers(lines), 'lines');
    tail.close({ remove: true });
  } finally {
    child.kill('SIGKILL');
  }
});

/** 100,000 lines of 200 bytes as fast as the replica can write them. */
const FLOOD = `const line = 'y'.repeat(199) + '\\n'; const block = line.repeat(1000);
  for (let i = 0; i < 100; i++) require('fs').writeSync(1, block);`;

test('a flood (20 MB) does not hold up the event loop', async () => {
  let count = 0;
  let bytes = 0;
  const store = new LogStore(join(dir, 'logs-flood'), 'p');
  const started = performance.now();
  const lag = await longestLag(async () => {
    const h = await runtime.start(spec('p-flood-1', FLOOD));
    // What the daemon does with each line: into the log store.
    h.onOutput((stream, line) => {
      count++;
      bytes += line.length + 1;
      store.append('p-flood-1', { t: Date.now(), stream, line });
    });
    assert.equal((await h.exited).exitCode, 0);
  });
  const ms = performance.now() - started;
  store.close();
  assert.equal(count, 100000);
  assert.equal(bytes, 20_000_000);
  console.log(`# 20 MB flood: read in ${ms.toFixed(0)} ms, longest timer lag ${lag.toFixed(1)} ms`);
  assert.ok(lag < 200, `the event loop stalled for ${lag.toFixed(0)} ms`);
  assert.deepEqual(
    readdirSync(outputDir).filter((f) => f.startsWith('p-flood-1.')),
    [],
  );
});

test('20 MB written while no one read (a daemon away) is caught up without holding up the event loop', async () => {
  const name = 'p-backlog-1';
  const [out, err] = openCapture(outputDir, name);
  const child = spawn(process.execPath, ['-e', FLOOD], { stdio: ['ignore', out, err] });
  closeSync(out);
  closeSync(err);
  await new Promise((r) => child.once('exit', r));
  let count = 0;
  const store = new LogStore(join(dir, 'logs-backlog'), 'p');
  const started = performance.now();
  const lag = await longestLag(async () => {
    const tail = new OutputTail(
      outputDir,
      name,
      (stream, line) => {
        count++;
        store.append(name, { t: Date.now(), stream, line });
      },
      { resume: true },
    );
    await tail.catchUp();
    tail.close({ remove: true });
  });
  const ms = performance.now() - started;
  store.close();
  assert.equal(count, 100000);
  console.log(
    `# 20 MB backlog: read in ${ms.toFixed(0)} ms, longest timer lag ${lag.toFixed(1)} ms`,
  );
  assert.ok(lag < 200, `the event loop stalled for ${lag.toFixed(0)} ms`);
});
