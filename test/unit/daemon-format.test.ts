import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PsResponse } from '../../src/daemon/api-types.ts';
import { humanDuration } from '../../src/cli/format/duration.ts';
import { formatEvent } from '../../src/cli/format/events.ts';
import { formatLogLine, parseSince } from '../../src/cli/format/logs.ts';
import { LogPrinter } from '../../src/logs/printer.ts';
import { formatPorts } from '../../src/cli/format/ports.ts';
import { psJson, psTable, selectReplicas } from '../../src/cli/format/ps.ts';
import { formatStatus } from '../../src/cli/format/status.ts';
import { renderTable } from '../../src/cli/format/table.ts';
import { cpuTime } from '../../src/cli/format/top.ts';
import { formatBytes } from '../../src/cli/format/units.ts';
import { replica } from '../helpers/daemon-transport-fake.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;

describe('ps formatting', () => {
  it('words durations as Docker does', () => {
    assert.equal(humanDuration(400), 'Less than a second');
    assert.equal(humanDuration(1 * S), '1 second');
    assert.equal(humanDuration(45 * S), '45 seconds');
    assert.equal(humanDuration(90 * S), 'About a minute');
    assert.equal(humanDuration(5 * M), '5 minutes');
    assert.equal(humanDuration(59 * M), '59 minutes');
    assert.equal(humanDuration(70 * M), 'About an hour');
    assert.equal(humanDuration(3 * H), '3 hours');
    assert.equal(humanDuration(47 * H), '47 hours');
    assert.equal(humanDuration(3 * 24 * H), '3 days');
    assert.equal(humanDuration(21 * 24 * H), '3 weeks');
    assert.equal(humanDuration(90 * 24 * H), '3 months');
    assert.equal(humanDuration(800 * 24 * H), '2 years');
  });

  it('words every replica state as Compose words container status', () => {
    const now = 10_000_000;
    const base = { health: 'none' as const, startedAt: now - 5 * M };
    assert.equal(
      formatStatus({ ...base, state: 'running', health: 'healthy' }, now),
      'Up 5 minutes (healthy)',
    );
    assert.equal(
      formatStatus({ ...base, state: 'running', health: 'starting' }, now),
      'Up 5 minutes (health: starting)',
    );
    assert.equal(
      formatStatus({ ...base, state: 'running', health: 'unhealthy' }, now),
      'Up 5 minutes (unhealthy)',
    );
    assert.equal(formatStatus({ ...base, state: 'running' }, now), 'Up 5 minutes');
    assert.equal(
      formatStatus(
        {
          ...base,
          state: 'exited',
          lastExit: { exitCode: 137, signal: 'SIGKILL' },
          finishedAt: now - 3 * S,
        },
        now,
      ),
      'Exited (137) 3 seconds ago',
    );
    assert.equal(
      formatStatus(
        { ...base, state: 'backoff', lastExit: { exitCode: 1 }, finishedAt: now - 2 * S },
        now,
      ),
      'Restarting (1) 2 seconds ago',
    );
    assert.equal(
      formatStatus({ ...base, state: 'waiting', reason: 'db healthy' }, now),
      'Waiting (db healthy)',
    );
    assert.equal(formatStatus({ ...base, state: 'waiting' }, now), 'Waiting');
    assert.equal(
      formatStatus({ ...base, state: 'waiting', reason: 'waiting for db (service_healthy)' }, now),
      'Waiting for db (service_healthy)',
    );
    // Never ran (its dependency failed): Compose's "Created", not "Exited (0)".
    const never = {
      health: 'none' as const,
      state: 'exited' as const,
      reason: 'dependency db failed: exit 1',
    };
    assert.equal(formatStatus(never, now), 'Created');
    assert.equal(
      formatStatus(
        { ...never, lastExit: { exitCode: 0 }, startedAt: now - S, finishedAt: now },
        now,
      ),
      'Exited (0) Less than a second ago',
    );
    assert.equal(formatStatus({ ...base, state: 'stopping' }, now), 'Stopping');
  });

  it('lists ports: published through the balancer, ephemeral per replica, exposed only', () => {
    const svc = {
      ports: [
        { target: 5000, published: { start: 8080, end: 8080 }, protocol: 'tcp' as const },
        { target: 6000, protocol: 'tcp' as const },
        {
          target: 53,
          published: { start: 1053, end: 1053 },
          hostIp: '127.0.0.1',
          protocol: 'udp' as const,
        },
        {
          target: 7000,
          published: { start: 9000, end: 9002 },
          hostIp: '::1',
          protocol: 'tcp' as const,
        },
      ],
      expose: [
        { port: 9100, protocol: 'tcp' as const },
        { port: 5000, protocol: 'tcp' as const },
      ],
    };
    const r = replica('shop', 'web', 2, { ports: { 6000: 41234 } });
    assert.equal(
      formatPorts(svc, r),
      '0.0.0.0:8080->5000/tcp, 127.0.0.1:41234->6000/tcp, 127.0.0.1:1053->53/udp, [::1]:9001->7000/tcp, 9100/tcp',
    );
    assert.equal(
      formatPorts({ ports: [{ target: 6000, protocol: 'tcp' }], expose: [] }, replica('s', 'w', 1)),
      '6000/tcp',
    );
  });

  it('renders aligned tables and hides exited replicas unless -a', () => {
    assert.equal(
      renderTable(
        ['A', 'BB'],
        [
          ['xxx', 'y'],
          ['z', ''],
        ],
      ),
      'A     BB\nxxx   y\nz\n',
    );
    const now = Date.now();
    const ps: PsResponse = {
      project: 'shop',
      now,
      services: [
        {
          name: 'web',
          ports: [{ target: 5000, published: { start: 8080, end: 8080 }, protocol: 'tcp' }],
          expose: [],
          scale: 2,
          stopped: false,
        },
      ],
      replicas: [
        {
          ...replica('shop', 'web', 1, { pid: 4242, startedAt: now - 5 * M, health: 'healthy' }),
          cpuPercent: 1.5,
          memBytes: 12 * 1024 * 1024,
        },
        replica('shop', 'web', 2, {
          state: 'exited',
          pid: 4243,
          lastExit: { exitCode: 137 },
          finishedAt: now - 3 * S,
          restarts: 2,
        }),
      ],
    };
    const shown = selectReplicas(ps, { all: false, services: [] });
    assert.deepEqual(
      shown.map((r) => r.name),
      ['shop-web-1'],
    );
    const table = psTable(ps, selectReplicas(ps, { all: true, services: ['web'] })).split('\n');
    assert.match(table[0]!, /^NAME\s+SERVICE\s+STATUS\s+RESTARTS\s+PORTS\s+PID\s+CPU %\s+MEM$/);
    assert.match(
      table[1]!,
      /^shop-web-1\s+web\s+Up 5 minutes \(healthy\)\s+0\s+0\.0\.0\.0:8080->5000\/tcp\s+4242\s+1\.50%\s+12MiB$/,
    );
    assert.match(
      table[2]!,
      /^shop-web-2\s+web\s+Exited \(137\) 3 seconds ago\s+2\s+0\.0\.0\.0:8080->5000\/tcp$/,
    );
    const json = psJson(ps, shown)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(json[0].Name, 'shop-web-1');
    assert.equal(json[0].State, 'running');
    assert.equal(json[0].Health, 'healthy');
    assert.equal(json[0].Status, 'Up 5 minutes (healthy)');
    assert.equal(json[0].OOMKilled, false);
    const oom = replica('shop', 'web', 6, {
      state: 'exited',
      lastExit: { exitCode: 137, oomKilled: true },
      finishedAt: now - 3 * S,
    });
    const killed = JSON.parse(psJson({ ...ps, replicas: [oom] }, [oom]));
    assert.equal(killed.OOMKilled, true);
    assert.equal(killed.ExitCode, 137);
    assert.equal(killed.Status, 'Exited (137) 3 seconds ago');
    // No PORT and no mapped port yet: no endpoint; else the replica's own address.
    assert.equal(json[0].Endpoint, null);
    const served = replica('shop', 'web', 4, { port: 41001, ports: { 5000: 41001 } });
    assert.equal(JSON.parse(psJson(ps, [served])).Endpoint, '127.0.0.1:41001');
    const mapped = replica('shop', 'web', 5, { ports: { 6000: 41002 } });
    assert.equal(JSON.parse(psJson(ps, [mapped])).Endpoint, '127.0.0.1:41002');
    const wide = psTable(ps, [served], true).split('\n');
    assert.match(wide[0]!, /\sENDPOINT$/);
    assert.match(wide[1]!, /\s127\.0\.0\.1:41001$/);
    const never = replica('shop', 'web', 3, {
      state: 'exited',
      startedAt: undefined,
      reason: 'dependency db failed: exit 1',
    });
    const created = JSON.parse(psJson({ ...ps, replicas: [never] }, [never]));
    assert.equal(created.State, 'created');
    assert.equal(created.Status, 'Created');
    assert.equal(created.Reason, 'dependency db failed: exit 1');
    assert.equal(created.Ready, false);
    assert.deepEqual(created.HealthLog, []);
    const probed = replica('shop', 'web', 1, {
      healthLog: [{ exitCode: 1, output: 'refused', start: 0, end: 1500 }],
    });
    assert.deepEqual(JSON.parse(psJson({ ...ps, replicas: [probed] }, [probed])).HealthLog, [
      {
        Start: '1970-01-01T00:00:00.000Z',
        End: '1970-01-01T00:00:01.500Z',
        ExitCode: 1,
        Output: 'refused',
      },
    ]);
  });

  it('formats sizes and cpu time', () => {
    assert.equal(formatBytes(0), '0B');
    assert.equal(formatBytes(1536), '1.5KiB');
    assert.equal(formatBytes(12 * 1024 * 1024), '12MiB');
    assert.equal(formatBytes(300 * 1024 * 1024), '300MiB');
    assert.equal(cpuTime(3725.9), '01:02:05');
  });
});

describe('logs and events formatting', () => {
  const e = {
    t: Date.UTC(2024, 0, 2, 13, 0, 0),
    stream: 'stdout' as const,
    line: 'hello',
    name: 'shop-web-1',
    service: 'web',
  };

  it('prefixes, pads, timestamps and colours log lines', () => {
    assert.equal(
      formatLogLine(e, { prefix: true, timestamps: false, color: false, width: 7 }),
      // As foreground `herd up` and docker compose v2: the service-n form, not the full name.
      'web-1    | hello\n',
    );
    assert.equal(
      formatLogLine(e, { prefix: false, timestamps: true, color: false, width: 0 }),
      '2024-01-02T13:00:00.000Z hello\n',
    );
    const ESC = String.fromCharCode(27);
    const colored = formatLogLine(e, { prefix: true, timestamps: false, color: true, width: 5 });
    assert.ok(colored.startsWith(`${ESC}[`), 'starts with a colour code');
    assert.ok(colored.endsWith(`${ESC}[0m hello\n`), 'resets after the prefix');
    // Same prefix and colour as the foreground printer gives the same replica.
    const printed: string[] = [];
    const printer = new LogPrinter({
      color: true,
      write: (t) => printed.push(t),
      names: ['web-1'],
    });
    printer.handle({
      type: 'output',
      at: e.t,
      service: 'web',
      name: 'shop-web-1',
      stream: 'stdout',
      line: 'hello',
    });
    assert.equal(colored, printed[0]);
  });

  it('parses --since as Docker does', () => {
    const now = Date.UTC(2024, 0, 2, 13, 0, 0);
    assert.equal(parseSince('10m', now), now - 10 * M);
    assert.equal(parseSince('1h30m', now), now - 90 * M);
    assert.equal(parseSince('45s', now), now - 45 * S);
    assert.equal(parseSince('1704200400', now), 1704200400 * 1000);
    assert.equal(parseSince('2024-01-02T12:00:00Z', now), now - H);
    assert.equal(parseSince('yesterday', now), undefined);
    assert.equal(parseSince('', now), undefined);
  });

  it('prints events as one line each', () => {
    assert.equal(
      formatEvent({ type: 'scaled', at: e.t, service: 'web', from: 1, to: 3 }),
      '2024-01-02T13:00:00.000Z service scale web (from=1, to=3)\n',
    );
    assert.equal(
      formatEvent({
        type: 'replica',
        at: e.t,
        replica: replica('shop', 'web', 1, { state: 'exited', lastExit: { exitCode: 1 } }),
      }),
      '2024-01-02T13:00:00.000Z replica exited shop-web-1 (service=web, state=exited, exitCode=1)\n',
    );
    const oom = replica('shop', 'web', 2, {
      state: 'backoff',
      lastExit: { exitCode: 137, oomKilled: true },
      reason: 'killed: memory limit exceeded (exit 137), restarting in 5s',
    });
    assert.equal(
      formatEvent({ type: 'replica', at: e.t, replica: oom }),
      '2024-01-02T13:00:00.000Z replica backoff shop-web-2 (service=web, state=backoff, ' +
        'exitCode=137, oomKilled=true, reason=killed: memory limit exceeded (exit 137), restarting in 5s)\n',
    );
  });
});
