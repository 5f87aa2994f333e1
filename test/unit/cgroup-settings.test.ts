// What herd reads from /proc about cgroups and what it writes for each limit, per cgroup version
// (the real kernel is in test/integration/process-cgroups.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findHierarchies } from '../../src/runtime/process/cgroup-mounts.ts';
import { limitsOf } from '../../src/runtime/process/cgroup-limits.ts';
import { v1Settings } from '../../src/runtime/process/cgroup-v1.ts';
import { sharesToWeight, v2Settings } from '../../src/runtime/process/cgroup-v2.ts';
import { commandProblem } from '../../src/runtime/process/command-path.ts';
import type { ReplicaSpec } from '../../src/runtime/types.ts';
import { tempDir } from '../helpers/tmp.ts';

const MiB = 1024 * 1024;

const HYBRID_MOUNTINFO = [
  '30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
  '34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '35 30 0:31 / /mnt/again rw,relatime - cgroup cgroup rw,memory',
  '38 30 0:35 /lxc/c1 /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
  '40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');
const HYBRID_CGROUP = [
  '9:name=systemd:/',
  '8:pids:/lxc/c1/app',
  '4:memory:/process_api/abc',
  '2:cpuacct,cpu:/',
  '0::/',
].join('\n');

describe('cgroup hierarchies from /proc', () => {
  it('v1 (hybrid): one per controller set, own cgroup under each mount, subtree mounts too', () => {
    const hs = findHierarchies(HYBRID_MOUNTINFO, HYBRID_CGROUP);
    const by = (c: string) => hs.find((h) => h.controllers.includes(c));
    assert.deepEqual(by('cpu'), {
      version: 1,
      mountPoint: '/sys/fs/cgroup/cpu,cpuacct',
      controllers: ['cpu', 'cpuacct'],
      ownDir: '/sys/fs/cgroup/cpu,cpuacct',
      ownIsRoot: true,
    });
    assert.equal(by('memory')?.ownDir, '/sys/fs/cgroup/memory/process_api/abc');
    assert.equal(by('memory')?.mountPoint, '/sys/fs/cgroup/memory', 'the first mount wins');
    assert.equal(by('pids')?.ownDir, '/sys/fs/cgroup/pids/app');
    assert.equal(hs.filter((h) => h.version === 1).length, 3, 'name=systemd has no controller');
    assert.equal(hs.find((h) => h.version === 2)?.ownDir, '/sys/fs/cgroup/unified');
  });
  it('v2: the unified tree, with an escaped mount point', () => {
    const hs = findHierarchies(
      '25 20 0:22 / /sys/fs/cgroup\\040x rw - cgroup2 cgroup2 rw,nsdelegate',
      '0::/user.slice/session-1.scope\n',
    );
    assert.deepEqual(hs, [
      {
        version: 2,
        mountPoint: '/sys/fs/cgroup x',
        controllers: [],
        ownDir: '/sys/fs/cgroup x/user.slice/session-1.scope',
        ownIsRoot: false,
      },
    ]);
  });
});

function spec(over: Partial<ReplicaSpec>): ReplicaSpec {
  return {
    project: 'p',
    service: 's',
    index: 1,
    name: 'p-s-1',
    command: ['x'],
    env: {},
    cwd: '/',
    stopSignal: 'SIGTERM',
    stopGracePeriodMs: 1000,
    ...over,
  };
}

describe('limits → cgroup files', () => {
  const all = limitsOf(
    spec({
      memoryLimitBytes: 64 * MiB,
      memswapLimitBytes: 96 * MiB,
      memoryReservationBytes: 32 * MiB,
      cpus: 0.5,
      cpuShares: 512,
      pidsLimit: 100,
    }),
  );
  it('v1: memory before memory+swap, CFS quota per 100 ms, shares, pids.max', () => {
    assert.deepEqual(
      v1Settings('memory', all).map((s) => [s.file, s.value]),
      [
        ['memory.limit_in_bytes', String(64 * MiB)],
        ['memory.memsw.limit_in_bytes', String(96 * MiB)],
        ['memory.soft_limit_in_bytes', String(32 * MiB)],
      ],
    );
    assert.deepEqual(
      v1Settings('cpu', all).map((s) => [s.file, s.value]),
      [
        ['cpu.cfs_period_us', '100000'],
        ['cpu.cfs_quota_us', '50000'],
        ['cpu.shares', '512'],
      ],
    );
    assert.deepEqual(v1Settings('pids', all), [{ file: 'pids.max', value: '100' }]);
  });
  it('v2: swap alone, memory.low, the whole group on OOM, cpu.max and cpu.weight', () => {
    assert.deepEqual(
      v2Settings(all, ['memory', 'cpu', 'pids']).map((s) => [s.file, s.value]),
      [
        ['memory.max', String(64 * MiB)],
        ['memory.swap.max', String(32 * MiB)],
        ['memory.low', String(32 * MiB)],
        ['memory.oom.group', '1'],
        ['cpu.max', '50000 100000'],
        ['cpu.weight', '20'],
        ['pids.max', '100'],
      ],
    );
    assert.deepEqual(v2Settings(all, ['pids']), [{ file: 'pids.max', value: '100' }]);
  });
  it("swap: Docker's default is as much as memory; -1 is unlimited; only asked-for is warned", () => {
    const byDefault = limitsOf(spec({ memoryLimitBytes: 64 * MiB }));
    const memsw = v1Settings('memory', byDefault).find((s) => s.file.includes('memsw'));
    assert.deepEqual(memsw, {
      file: 'memory.memsw.limit_in_bytes',
      value: String(128 * MiB),
      optional: true,
      askedBy: undefined,
    });
    const unlimited = limitsOf(spec({ memoryLimitBytes: 64 * MiB, memswapLimitBytes: -1 }));
    assert.equal(v2Settings(unlimited, ['memory'])[1]?.value, 'max');
    assert.equal(v1Settings('memory', unlimited)[1]?.askedBy, 'memswap_limit');
  });
  it("Compose's 0 means no limit; tiny quotas and shares are clamped to what the kernel takes", () => {
    assert.deepEqual(limitsOf(spec({ cpus: 0, pidsLimit: 0, cpuShares: 0 })), {});
    const tiny = limitsOf(spec({ cpus: 0.001, cpuShares: 1 }));
    assert.deepEqual(
      v1Settings('cpu', tiny).map((s) => s.value),
      ['100000', '1000', '2'],
    );
    assert.equal(sharesToWeight(2), 1);
    assert.equal(sharesToWeight(1024), 39);
    assert.equal(sharesToWeight(262_144), 10_000);
  });
});

describe('the command a gated replica will exec', () => {
  const dir = tempDir('cmdpath');
  const script = path.join(dir, 'run.sh');
  writeFileSync(script, '#!/bin/sh\n');
  chmodSync(script, 0o750);
  const plain = path.join(dir, 'plain.txt');
  writeFileSync(plain, '');
  chmodSync(plain, 0o644);
  it('is found on PATH or relative to the working dir, as execvp finds it', () => {
    assert.equal(commandProblem('sh', { PATH: '/nonexistent:/bin:/usr/bin' }, '/', {}), undefined);
    assert.equal(commandProblem('./run.sh', {}, dir, {}), undefined);
    assert.equal(commandProblem('run.sh', { PATH: `/nonexistent:${dir}` }, '/', {}), undefined);
    assert.equal(commandProblem('run.sh', { PATH: '/bin' }, dir, {}), 'ENOENT');
  });
  it('is not executable when its mode says so for the user it runs as', () => {
    assert.equal(commandProblem(plain, {}, '/', {}), 'EACCES');
    assert.equal(commandProblem(dir, {}, '/', {}), 'EACCES', 'a directory');
    assert.equal(commandProblem(script, {}, '/', { uid: 4242, gid: 4242 }), 'EACCES');
    assert.equal(commandProblem(script, {}, '/', { uid: 0, gid: 0 }), undefined);
  });
});
