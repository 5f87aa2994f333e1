// Kernel-enforced limits of process replicas, against the real kernel's cgroups. These tests
// fail (they do not skip) where herd cannot write cgroups: CI runs as root on a machine with a
// writable memory, cpu and pids hierarchy, and a limit that silently is not enforced is the bug.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ProcessRuntime } from '../../src/runtime/process/process-runtime.ts';
import { Cgroups } from '../../src/runtime/process/cgroups.ts';
import { findHierarchies, readHierarchies } from '../../src/runtime/process/cgroup-mounts.ts';
import type { ReplicaHandle, ReplicaSpec } from '../../src/runtime/types.ts';
import { pidAlive, waitUntil } from '../helpers/wait.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = tempDir('cgroups');
const project = `cgtest${process.pid}`;
const runtime = new ProcessRuntime({ cgroups: new Cgroups({ warn: () => undefined }) });
const MiB = 1024 * 1024;

function spec(command: string[], over: Partial<ReplicaSpec> = {}): ReplicaSpec {
  return {
    project,
    service: 's',
    index: 1,
    name: `${project}-s-1`,
    command,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cwd: dir,
    stopSignal: 'SIGTERM',
    stopGracePeriodMs: 1000,
    ...over,
  };
}

/** controller → the directory of `pid`'s cgroup in the hierarchy that has it. */
function cgroupDirs(pid: number): Map<string, string> {
  const mine = findHierarchies(
    readFileSync('/proc/self/mountinfo', 'utf8'),
    readFileSync(`/proc/${pid}/cgroup`, 'utf8'),
  );
  const dirs = new Map<string, string>();
  for (const h of mine) for (const c of h.controllers) dirs.set(c, h.ownDir);
  return dirs;
}

/** RssAnon + RssShmem of a process (what a memory cgroup caps), in bytes; undefined once gone. */
function ownMemory(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    if (/^State:\s+Z/m.test(status)) return undefined;
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return (kb('RssAnon') + kb('RssShmem')) * 1024;
  } catch {
    return undefined;
  }
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const hz = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  return (Number(f[11]) + Number(f[12])) / hz;
}

function firstLine(h: ReplicaHandle): Promise<string> {
  return new Promise((resolve) => h.onOutput((_s, line) => resolve(line)));
}

test('this machine gives herd writable cgroups for memory, cpu and pids', () => {
  const available = new Cgroups({ warn: () => undefined }).available();
  assert.deepEqual(
    [...available].sort(),
    ['cpu', 'memory', 'pids'],
    `writable cgroup controllers: ${available.join(', ') || 'none'} — run the tests as root ` +
      'on a machine with cgroup v2, or v1 with memory, cpu and pids mounted',
  );
});

test('memory: 64M is a hard cap: killed by the kernel, reported as an OOM kill', async () => {
  const code = `const a = []; setInterval(() => { const b = Buffer.alloc(4 << 20); b.fill(1); a.push(b); }, 20);`;
  const h = await runtime.start(
    spec([process.execPath, '-e', code], { memoryLimitBytes: 64 * MiB }),
  );
  const pid = h.pid as number;
  assert.match(cgroupDirs(pid).get('memory') ?? '', new RegExp(`/herd/${project}/s-1\\.`));
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, ownMemory(pid) ?? 0)), 10);
  const exit = await h.exited;
  clearInterval(sampler);
  assert.equal(exit.exitCode, 137);
  assert.equal(exit.signal, 'SIGKILL');
  assert.equal(exit.oomKilled, true);
  assert.ok(peak <= 64 * MiB, `private memory peaked at ${(peak / MiB).toFixed(1)} MiB`);
  assert.ok(peak >= 40 * MiB, `killed at ${(peak / MiB).toFixed(1)} MiB, well before 64M`);
});

test('cpus: 0.5 holds a busy loop of two threads to half a core', async () => {
  const code = `const { Worker } = require('worker_threads'); new Worker('const e = Date.now() + 4000; while (Date.now() < e);', { eval: true }); const e = Date.now() + 4000; console.log('spinning'); while (Date.now() < e);`;
  const h = await runtime.start(spec([process.execPath, '-e', code], { cpus: 0.5 }));
  await firstLine(h);
  await new Promise((r) => setTimeout(r, 300));
  const pid = h.pid as number;
  const t0 = Date.now();
  const c0 = cpuSeconds(pid);
  await new Promise((r) => setTimeout(r, 2000));
  const used = (cpuSeconds(pid) - c0) / ((Date.now() - t0) / 1000);
  await h.stop(0);
  assert.ok(used <= 0.6, `used ${used.toFixed(2)} of a core with cpus: 0.5`);
  // Only that it ran: other work on the machine may take the rest of its half core.
  assert.ok(used >= 0.05, `used only ${used.toFixed(2)} of a core: did it spin at all?`);
});

test('pids_limit stops a (bounded) fork bomb', async () => {
  // 40 sleeps at most, so a limit that does not hold cannot take the machine down.
  const script = 'i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); echo $i; done; wait';
  const h = await runtime.start(spec(['sh', '-c', script], { pidsLimit: 10 }));
  const lines: string[] = [];
  h.onOutput((_s, l) => lines.push(l));
  const exit = await Promise.race([h.exited, new Promise<undefined>((r) => setTimeout(r, 5000))]);
  if (!exit) await h.stop(0);
  const started = Math.max(0, ...lines.filter((l) => /^\d+$/.test(l)).map(Number));
  assert.ok(started < 10, `started ${started} children with pids_limit 10`);
  assert.ok(
    lines.some((l) => /fork/i.test(l)),
    `no fork failure reported: ${lines.join(' | ')}`,
  );
});

test('mem_reservation, memswap_limit and cpu_shares reach the cgroup; its dirs go with the replica', async () => {
  const h = await runtime.start(
    spec(['sleep', '30'], {
      memoryLimitBytes: 64 * MiB,
      memswapLimitBytes: 96 * MiB,
      memoryReservationBytes: 32 * MiB,
      cpuShares: 512,
      pidsLimit: 50,
    }),
  );
  const dirs = cgroupDirs(h.pid as number);
  const read = (c: string, file: string) =>
    readFileSync(path.join(dirs.get(c) ?? '', file), 'utf8').trim();
  if (existsSync(path.join(dirs.get('memory') ?? '', 'memory.limit_in_bytes'))) {
    assert.equal(read('memory', 'memory.limit_in_bytes'), String(64 * MiB));
    assert.equal(read('memory', 'memory.soft_limit_in_bytes'), String(32 * MiB));
    if (existsSync(path.join(dirs.get('memory') ?? '', 'memory.memsw.limit_in_bytes')))
      assert.equal(read('memory', 'memory.memsw.limit_in_bytes'), String(96 * MiB));
    assert.equal(read('cpu', 'cpu.shares'), '512');
  } else {
    assert.equal(read('memory', 'memory.max'), String(64 * MiB));
    assert.equal(read('memory', 'memory.low'), String(32 * MiB));
    assert.equal(read('cpu', 'cpu.weight'), '20');
  }
  assert.equal(read('pids', 'pids.max'), '50');
  await h.stop();
  for (const d of new Set([...dirs.values()].filter((d) => d.includes('/herd/')))) {
    assert.equal(existsSync(d), false, `${d} is left after stop`);
    assert.equal(existsSync(path.dirname(d)), false, `${path.dirname(d)} is left after stop`);
  }
});

test('what a replica started outside its process group dies with it', async () => {
  const script = 'setsid sleep 60 </dev/null >/dev/null 2>&1 & echo $!; sleep 0.3';
  const h = await runtime.start(spec(['sh', '-c', script]));
  const escaped = Number(await firstLine(h));
  assert.ok(pidAlive(escaped));
  await h.exited;
  await waitUntil('the escaped process gone', () => !pidAlive(escaped), 3000);
});

test("a sweep removes the cgroups dead herds left, killing what is left in its project's", async () => {
  const memory = readHierarchies().find((h) => h.controllers.includes('memory'));
  assert.ok(memory, 'no memory hierarchy');
  const herdDir = path.join(memory.ownDir, 'herd');
  const mine = path.join(herdDir, `${project}-sweep`);
  const other = path.join(herdDir, `${project}-other`);
  const dead = Number(execFileSync('sh', ['-c', 'echo $$']).toString());
  const leftWithProcess = path.join(mine, `s-1.${dead}.1`);
  const ours = path.join(mine, `s-2.${process.pid}.1`);
  const otherDead = path.join(other, `s-1.${dead}.2`);
  const otherLive = path.join(other, `s-2.${process.ppid}.1`);
  for (const d of [leftWithProcess, ours, otherDead, otherLive]) mkdirSync(d, { recursive: true });
  const straggler = spawn('sleep', ['60'], { stdio: 'ignore' });
  writeFileSync(path.join(leftWithProcess, 'cgroup.procs'), String(straggler.pid));
  const gone = new Promise((r) => straggler.once('exit', r));
  await new Cgroups({ warn: () => undefined }).sweep(`${project}-sweep`);
  await gone;
  assert.equal(existsSync(leftWithProcess), false);
  assert.equal(existsSync(otherDead), false);
  assert.equal(existsSync(ours), true);
  assert.equal(existsSync(otherLive), true);
  for (const d of [ours, mine, otherLive, other]) rmdirSync(d);
  try {
    rmdirSync(herdDir);
  } catch {
    // other tests' cgroups are in it
  }
});

test('without a writable cgroup: memory is polled, and each missing controller is named once', async () => {
  const warnings: string[] = [];
  const none = new Cgroups({ hierarchies: () => [], warn: (m) => warnings.push(m) });
  const bare = new ProcessRuntime({ cgroups: none });
  const code = `const a = []; setInterval(() => { a.push(Buffer.alloc(8 << 20, 1)); }, 20);`;
  const first = await bare.start(
    spec([process.execPath, '-e', code], { memoryLimitBytes: 96 * MiB }),
  );
  const exit = await first.exited;
  assert.equal(exit.exitCode, 137);
  assert.equal(exit.oomKilled, true);
  // A daemon listens from when it serves: it hears what was said before, then what follows.
  const heard: string[] = [];
  const stop = none.onWarning((m, key) => heard.push(`${key}: ${m}`));
  assert.equal(heard.length, 1);
  const second = await bare.start(spec(['true'], { memoryLimitBytes: 96 * MiB, cpus: 1 }));
  await second.exited;
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.deepEqual(heard, [`memory: ${warnings[0]}`, `cpu: ${warnings[1]}`]);
  stop();
  none.warnOnce('later');
  assert.equal(heard.length, 2, 'not heard once it stopped listening');
  assert.match(warnings[0] ?? '', /the memory controller .*memory limits .*polling every 500 ms/);
  assert.match(warnings[1] ?? '', /the cpu controller .*`cpus` and `cpu_shares` are not enforced/);
});

test('behind the gate the replica keeps its pid, its argv and its process group', async () => {
  const h = await runtime.start(spec(['sh', '-c', 'echo "$$ $(ps -o pgid= -p $$)"; sleep 5']));
  const [pid, pgid] = (await firstLine(h)).trim().split(/\s+/).map(Number);
  assert.equal(pid, h.pid);
  assert.equal(pgid, h.pid);
  assert.match(readFileSync(`/proc/${h.pid}/cmdline`, 'utf8'), /^sh\0-c\0/);
  await h.stop(0);
});

/** Runs `node -e` printing its environment and its memory cgroup; resolves with both. */
async function envAndCgroup(
  rt: ProcessRuntime,
  env: Record<string, string>,
): Promise<{ env: Record<string, string>; cgroup: string }> {
  const code = `console.log(JSON.stringify({ env: process.env, cgroup: require('fs').readFileSync('/proc/self/cgroup', 'utf8') }))`;
  const h = await rt.start(
    spec([process.execPath, '-e', code], { env, memoryLimitBytes: 256 * MiB }),
  );
  const line = await firstLine(h);
  await h.exited;
  return JSON.parse(line) as { env: Record<string, string>; cgroup: string };
}

const awkwardEnv = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  'spring.datasource.url': 'jdbc:x',
  'A-B': '1',
  IFS: ':',
  OPTIND: '3',
  PPID: '5',
  PWD: '/elsewhere',
  PERL5OPT: '-Mnonexistent',
  MULTI: 'a\nb',
  EMPTY: '',
};

test('the perl gate passes the environment on exactly, PERL5OPT and all', async () => {
  const seen = await envAndCgroup(runtime, awkwardEnv);
  assert.deepEqual(seen.env, awkwardEnv);
  assert.match(seen.cgroup, new RegExp(`memory:.*/herd/${project}/`));
});

test('without perl, /bin/sh is the gate; an environment it would change starts ungated', async () => {
  const warnings: string[] = [];
  const shOnly = new ProcessRuntime({
    cgroups: new Cgroups({ warn: (m) => warnings.push(m) }),
    perl: null,
  });
  const safe = { PATH: awkwardEnv.PATH, FOO: 'bar', MULTI: 'a\nb' };
  const gated = await envAndCgroup(shOnly, safe);
  assert.deepEqual(gated.env, { ...safe, PWD: dir }, 'the shell sets PWD to the working dir');
  assert.match(gated.cgroup, new RegExp(`memory:.*/herd/${project}/`));
  assert.deepEqual(warnings, []);
  const ungated = await envAndCgroup(shOnly, awkwardEnv);
  assert.deepEqual(ungated.env, awkwardEnv);
  assert.match(ungated.cgroup, new RegExp(`memory:.*/herd/${project}/`), 'joined right after');
  await envAndCgroup(shOnly, awkwardEnv);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(
    warnings[0] ?? '',
    /spring\.datasource\.url, A-B, IFS, OPTIND, PPID cannot pass through \/bin\/sh/,
  );
});
