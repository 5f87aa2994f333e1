import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseInterval } from '../../src/cli/commands/top.ts';
import { fitWidth, topFrame, topSummary } from '../../src/cli/format/top.ts';
import type { TopReplica } from '../../src/daemon/api-types.ts';

const proc = (pid: number, command: string, rssBytes: number, cpuSeconds = 1) => ({
  pid,
  ppid: 1,
  uid: 1000,
  rssBytes,
  cpuSeconds,
  state: 'S',
  command,
});

const replicas: TopReplica[] = [
  {
    name: 'shop-web-1',
    service: 'web',
    pid: 100,
    cpuPercent: 12.345,
    memBytes: 48 * 1024 * 1024,
    processes: [proc(100, 'sh -c node app.js', 1024 * 1024), proc(101, 'node app.js', 47 << 20)],
  },
  {
    name: 'shop-worker-1',
    service: 'worker',
    pid: 200,
    cpuPercent: 150,
    memBytes: 1536,
    processes: [proc(200, 'node worker.js', 1536, 3725)],
  },
  // Gone between listing and sampling: no usage, no processes.
  { name: 'shop-web-2', service: 'web', pid: 300, processes: [] },
];

describe('top formatting', () => {
  it('summarises each replica with CPU %, memory and its process count', () => {
    assert.equal(
      topSummary(replicas),
      [
        'NAME            SERVICE   CPU %     MEM      PIDS',
        'shop-web-1      web       12.35%    48MiB    2',
        'shop-worker-1   worker    150.00%   1.5KiB   1',
        'shop-web-2      web       --        --       0',
        '',
      ].join('\n'),
    );
    assert.equal(topSummary([]), 'NAME   SERVICE   CPU %   MEM   PIDS\n');
  });

  it('a frame is the summary, then each replica and its processes', () => {
    const frame = topFrame(replicas.slice(0, 2));
    const [summary, web, worker, ...rest] = frame.split('\n\n');
    assert.deepEqual(rest, []);
    assert.match(summary!, /^NAME\s+SERVICE\s+CPU %\s+MEM\s+PIDS\n/);
    assert.equal(
      web,
      [
        'shop-web-1',
        'UID    PID   PPID   STAT   RSS     TIME       CMD',
        '1000   100   1      S      1MiB    00:00:01   sh -c node app.js',
        '1000   101   1      S      47MiB   00:00:01   node app.js',
      ].join('\n'),
    );
    assert.match(
      worker!,
      /^shop-worker-1\n.*\n1000\s+200\s+1\s+S\s+1\.5KiB\s+01:02:05\s+node worker\.js\n$/,
    );
    assert.equal(topFrame([]), 'NAME   SERVICE   CPU %   MEM   PIDS\n');
  });

  it('cuts lines to the terminal width', () => {
    assert.equal(fitWidth('abcdef\nab\n', 4), 'abcd\nab\n');
    assert.equal(fitWidth('abcdef', 0), 'abcdef', 'unknown width: unchanged');
  });

  it('--interval takes seconds > 0', () => {
    assert.equal(parseInterval('2'), 2000);
    assert.equal(parseInterval('0.5'), 500);
    for (const bad of ['0', '-1', 'x', '', '2s'])
      assert.throws(() => parseInterval(bad), /--interval .*: expected a number of seconds > 0/);
  });
});
