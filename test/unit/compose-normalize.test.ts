import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadProject } from '../../src/compose/load.ts';
import type { Project, Service } from '../../src/compose/model.ts';
import { tempDir } from '../helpers/tmp.ts';

async function load(
  yaml: string,
  extra: Record<string, string> = {},
  env: Record<string, string> = {},
): Promise<{ p: Project; dir: string }> {
  const dir = tempDir('norm');
  await writeFile(path.join(dir, 'compose.yaml'), yaml);
  for (const [name, text] of Object.entries(extra)) await writeFile(path.join(dir, name), text);
  return { p: await loadProject({ cwd: dir, env }), dir };
}

async function svc(
  body: string,
  extra: Record<string, string> = {},
  env: Record<string, string> = {},
): Promise<Service> {
  const indented = body
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  const { p } = await load(`services:\n  s:\n    image: img\n${indented}\n`, extra, env);
  return p.services.s as Service;
}

describe('command and entrypoint', () => {
  it('splits strings like a shell, without running one', async () => {
    const s = await svc(`command: sh -c 'echo "$$HOME" && exit 1' "two words" a\\ b`);
    assert.deepEqual(s.command, ['sh', '-c', 'echo "$HOME" && exit 1', 'two words', 'a b']);
  });
  it('keeps lists as-is and stringifies numbers', async () => {
    const s = await svc('entrypoint: ["node", "app.js", 3000]\ncommand: []');
    assert.deepEqual(s.entrypoint, ['node', 'app.js', '3000']);
    assert.deepEqual(s.command, []);
  });
  it('leaves command undefined when absent or null', async () => {
    assert.equal((await svc('command: null')).command, undefined);
  });
});

describe('environment and env_file', () => {
  it('list form, bare keys from the shell, map with null values', async () => {
    const s = await svc(
      'environment:\n  - A=1\n  - B=x=y\n  - FROMSHELL\n  - UNSET',
      {},
      { FROMSHELL: 'sh' },
    );
    assert.deepEqual(s.environment, { A: '1', B: 'x=y', FROMSHELL: 'sh' });
    const m = await svc('environment:\n  A: 1\n  B: true\n  C:\n  D: ""', {}, { C: 'c' });
    assert.deepEqual(m.environment, { A: '1', B: 'true', C: 'c', D: '' });
  });
  it('env_file in every form, environment wins, optional missing files skipped', async () => {
    const s = await svc(
      'env_file:\n  - a.env\n  - path: b.env\n    required: true\n  - path: missing.env\n    required: false\nenvironment:\n  A: from-environment',
      { 'a.env': 'A=a\nB=a\nREF=${OUTER}-${B}\n', 'b.env': 'B=b\n' },
      { OUTER: 'o' },
    );
    assert.deepEqual(s.environment, { A: 'from-environment', B: 'b', REF: 'o-a' });
    const single = await svc('env_file: a.env', { 'a.env': 'X=1' });
    assert.deepEqual(single.environment, { X: '1' });
  });
});

describe('paths', () => {
  it('working_dir relative to the project folder, absolute kept', async () => {
    const { p, dir } = await load(
      'services:\n  a:\n    image: x\n    working_dir: ./app\n  b:\n    image: x\n    working_dir: /srv\n',
    );
    assert.equal(p.services.a?.workingDir, path.join(dir, 'app'));
    assert.equal(p.services.b?.workingDir, '/srv');
    assert.equal(p.workingDir, dir);
  });
  it('volumes short and long; bind sources resolved', async () => {
    const { p, dir } = await load(
      [
        'services:',
        '  a:',
        '    image: x',
        '    volumes:',
        '      - ./src:/app:ro',
        '      - data:/var/lib/x',
        '      - /cache',
        '      - type: bind',
        '        source: ./conf',
        '        target: /etc/conf',
        '        read_only: true',
        '      - type: tmpfs',
        '        target: /tmp',
        'volumes:',
        '  data:',
        '  ext:',
        '    external: true',
        '    name: real-ext',
      ].join('\n'),
    );
    assert.deepEqual(p.services.a?.volumes, [
      { type: 'bind', source: path.join(dir, 'src'), target: '/app', readOnly: true },
      { type: 'volume', source: 'data', target: '/var/lib/x', readOnly: false },
      { type: 'volume', target: '/cache', readOnly: false },
      { type: 'bind', source: path.join(dir, 'conf'), target: '/etc/conf', readOnly: true },
      { type: 'tmpfs', target: '/tmp', readOnly: false },
    ]);
    assert.deepEqual(p.volumes, {
      data: { name: 'data', external: false, labels: {} },
      ext: { name: 'real-ext', external: true, labels: {} },
    });
  });
  it('build string and long form', async () => {
    const { p, dir } = await load(
      'services:\n  a:\n    build: ./web\n  b:\n    build:\n      context: api\n      dockerfile: Dockerfile.dev\n      target: dev\n      args:\n        - V=1\n        - FROMSHELL\n',
      {},
      { FROMSHELL: 'yes' },
    );
    assert.deepEqual(p.services.a?.build, { context: path.join(dir, 'web'), args: {} });
    assert.deepEqual(p.services.b?.build, {
      context: path.join(dir, 'api'),
      dockerfile: 'Dockerfile.dev',
      target: 'dev',
      args: { V: '1', FROMSHELL: 'yes' },
    });
  });
});

describe('ports and expose', () => {
  it('every short form', async () => {
    const s = await svc(
      'ports:\n  - "3000"\n  - "3000-3002"\n  - "8000:8000"\n  - "9090-9091:8080-8081"\n  - "49100:22"\n  - "127.0.0.1:8001:8001"\n  - "127.0.0.1:5000-5010:5000"\n  - "6060:6060/udp"\n  - "[::1]:6001:6001"\n  - 4000\n  - "127.0.0.1::7000"',
    );
    const r = (start: number, end = start) => ({ start, end });
    assert.deepEqual(s.ports, [
      { target: 3000, protocol: 'tcp' },
      { target: 3000, protocol: 'tcp' },
      { target: 3001, protocol: 'tcp' },
      { target: 3002, protocol: 'tcp' },
      { target: 8000, protocol: 'tcp', published: r(8000) },
      { target: 8080, protocol: 'tcp', published: r(9090) },
      { target: 8081, protocol: 'tcp', published: r(9091) },
      { target: 22, protocol: 'tcp', published: r(49100) },
      { target: 8001, protocol: 'tcp', published: r(8001), hostIp: '127.0.0.1' },
      { target: 5000, protocol: 'tcp', published: r(5000, 5010), hostIp: '127.0.0.1' },
      { target: 6060, protocol: 'udp', published: r(6060) },
      { target: 6001, protocol: 'tcp', published: r(6001), hostIp: '::1' },
      { target: 4000, protocol: 'tcp' },
      { target: 7000, protocol: 'tcp', hostIp: '127.0.0.1' },
    ]);
  });
  it('host IPs: IPv4, IPv6 in brackets or bare, and IPv4 in brackets, as Compose reads them', async () => {
    const s = await svc(
      'ports:\n  - "0.0.0.0:80:80"\n  - "[::]:81:81"\n  - "::1:82:82"\n  - "[127.0.0.1]:83:83"\n  - {target: 84, host_ip: "[::1]"}',
    );
    assert.deepEqual(
      s.ports.map((p) => p.hostIp),
      ['0.0.0.0', '::', '::1', '127.0.0.1', '::1'],
    );
  });
  it('long form with string or number published and ranges', async () => {
    const s = await svc(
      'ports:\n  - target: 80\n    published: "8080"\n    host_ip: 127.0.0.1\n    protocol: tcp\n    app_protocol: http\n    mode: host\n    name: web\n  - target: 53\n    published: 5300-5310\n    protocol: udp\n  - target: 9000\n    published: 9001',
    );
    assert.deepEqual(s.ports, [
      {
        target: 80,
        protocol: 'tcp',
        published: { start: 8080, end: 8080 },
        hostIp: '127.0.0.1',
        appProtocol: 'http',
        name: 'web',
      },
      { target: 53, protocol: 'udp', published: { start: 5300, end: 5310 } },
      { target: 9000, protocol: 'tcp', published: { start: 9001, end: 9001 } },
    ]);
  });
  it('expose strings, numbers, ranges and protocols', async () => {
    const s = await svc('expose: ["3000", 4000, "5000-5001", "6000/udp"]');
    assert.deepEqual(s.expose, [
      { port: 3000, protocol: 'tcp' },
      { port: 4000, protocol: 'tcp' },
      { port: 5000, protocol: 'tcp' },
      { port: 5001, protocol: 'tcp' },
      { port: 6000, protocol: 'udp' },
    ]);
  });
});

describe('scale, restart, deploy', () => {
  it('scale defaults to 1; deploy.replicas and scale; 0 allowed', async () => {
    assert.equal((await svc('')).scale, 1);
    assert.equal((await svc('scale: 3')).scale, 3);
    assert.equal((await svc('deploy:\n  replicas: 0')).scale, 0);
    assert.equal((await svc('scale: 2\ndeploy:\n  replicas: 2')).scale, 2);
  });
  it('restart values', async () => {
    assert.deepEqual((await svc('')).restart, { condition: 'no' });
    assert.deepEqual((await svc('restart: no')).restart, { condition: 'no' });
    assert.deepEqual((await svc('restart: "no"')).restart, { condition: 'no' });
    assert.deepEqual((await svc('restart: always')).restart, { condition: 'always' });
    assert.deepEqual((await svc('restart: unless-stopped')).restart, {
      condition: 'unless-stopped',
    });
    assert.deepEqual((await svc('restart: on-failure')).restart, { condition: 'on-failure' });
    assert.deepEqual((await svc('restart: on-failure:5')).restart, {
      condition: 'on-failure',
      maxAttempts: 5,
    });
    // Docker's retry count 0 is no limit.
    assert.deepEqual((await svc('restart: on-failure:0')).restart, { condition: 'on-failure' });
  });
  it('deploy.restart_policy, and it wins over restart: as in Compose', async () => {
    const policy =
      'deploy:\n  restart_policy:\n    condition: on-failure\n    delay: 5s\n    max_attempts: 3\n    window: 2m';
    assert.deepEqual((await svc(policy)).restart, {
      condition: 'on-failure',
      delayMs: 5000,
      fixedDelay: true,
      maxAttempts: 3,
      windowMs: 120000,
    });
    // Swarm's fixed delay, 5 s by default.
    assert.deepEqual((await svc('deploy:\n  restart_policy:\n    condition: none')).restart, {
      condition: 'no',
      delayMs: 5000,
      fixedDelay: true,
    });
    assert.deepEqual((await svc('deploy:\n  restart_policy: {}')).restart, {
      condition: 'always',
      delayMs: 5000,
      fixedDelay: true,
    });
    assert.deepEqual((await svc(`restart: "no"\n${policy}`)).restart, {
      condition: 'on-failure',
      delayMs: 5000,
      fixedDelay: true,
      maxAttempts: 3,
      windowMs: 120000,
    });
    // Swarm's max_attempts 0 is never give up, not never restart.
    const zero = 'deploy:\n  restart_policy:\n    condition: on-failure\n    max_attempts: 0';
    assert.deepEqual((await svc(zero)).restart, {
      condition: 'on-failure',
      delayMs: 5000,
      fixedDelay: true,
    });
    const none = 'restart: always\ndeploy:\n  restart_policy:\n    condition: none';
    assert.deepEqual((await svc(none)).restart, {
      condition: 'no',
      delayMs: 5000,
      fixedDelay: true,
    });
  });
  it('deploy.resources', async () => {
    const s = await svc(
      'deploy:\n  resources:\n    limits:\n      cpus: "0.50"\n      memory: 512M\n      pids: 100\n    reservations:\n      cpus: 1\n      memory: 100kb',
    );
    assert.deepEqual(s.resources, {
      limits: { cpus: 0.5, memoryBytes: 512 * 1024 * 1024, pids: 100 },
      reservations: { cpus: 1, memoryBytes: 100 * 1024 },
    });
  });
  it('a memory size of 0 means no limit, as Docker reads it', async () => {
    const deploy = await svc('deploy:\n  resources:\n    limits:\n      memory: 0');
    assert.deepEqual(deploy.resources, { limits: {}, reservations: {} });
    const legacy = await svc('mem_limit: 0\nmem_reservation: "0"');
    assert.deepEqual(legacy.resources, { limits: {}, reservations: {} });
    // A deploy limit of 0 does not clear mem_limit (Compose's setLimits skips a 0).
    const both = await svc('mem_limit: 1g\ndeploy:\n  resources:\n    limits:\n      memory: 0b');
    assert.equal(both.resources.limits.memoryBytes, 1024 ** 3);
  });
});

describe('healthcheck', () => {
  it('defaults and every test form', async () => {
    const exec = await svc('healthcheck:\n  test: ["CMD", "curl", "-f", "http://localhost"]');
    assert.deepEqual(exec.healthcheck, {
      test: { kind: 'exec', argv: ['curl', '-f', 'http://localhost'] },
      intervalMs: 30000,
      timeoutMs: 30000,
      retries: 3,
      startPeriodMs: 0,
      startIntervalMs: 5000,
    });
    const shell = await svc(
      'healthcheck:\n  test: ["CMD-SHELL", "curl -f localhost || exit 1"]\n  interval: 1m30s\n  timeout: 500ms\n  retries: 5\n  start_period: 1h\n  start_interval: 10s',
    );
    assert.deepEqual(shell.healthcheck, {
      test: { kind: 'shell', command: 'curl -f localhost || exit 1' },
      intervalMs: 90000,
      timeoutMs: 500,
      retries: 5,
      startPeriodMs: 3600000,
      startIntervalMs: 10000,
    });
    assert.deepEqual((await svc('healthcheck:\n  test: pg_isready')).healthcheck?.test, {
      kind: 'shell',
      command: 'pg_isready',
    });
    assert.equal((await svc('healthcheck:\n  test: ["NONE"]')).healthcheck, undefined);
    assert.equal((await svc('healthcheck:\n  disable: true')).healthcheck, undefined);
    assert.equal((await svc('healthcheck:\n  interval: 5s')).healthcheck?.test, undefined);
  });
});

describe('depends_on', () => {
  it('list and long form', async () => {
    const { p } = await load(
      'services:\n  db:\n    image: x\n  cache:\n    image: x\n  web:\n    image: x\n    depends_on:\n      db:\n        condition: service_healthy\n        restart: true\n      cache:\n        condition: service_completed_successfully\n        required: false\n  worker:\n    image: x\n    depends_on: [db, cache]\n',
    );
    assert.deepEqual(p.services.web?.dependsOn, {
      db: { condition: 'service_healthy', required: true, restart: true },
      cache: { condition: 'service_completed_successfully', required: false, restart: false },
    });
    assert.deepEqual(p.services.worker?.dependsOn, {
      db: { condition: 'service_started', required: true, restart: false },
      cache: { condition: 'service_started', required: true, restart: false },
    });
  });
});

describe('signals, grace period, labels, user, image', () => {
  it('stop_signal names, short names and numbers', async () => {
    assert.equal((await svc('')).stopSignal, 'SIGTERM');
    assert.equal((await svc('stop_signal: SIGINT')).stopSignal, 'SIGINT');
    assert.equal((await svc('stop_signal: QUIT')).stopSignal, 'SIGQUIT');
    assert.equal((await svc('stop_signal: 9')).stopSignal, 'SIGKILL');
  });
  it('stop_grace_period default 10s, durations and plain seconds', async () => {
    assert.equal((await svc('')).stopGracePeriodMs, 10000);
    assert.equal((await svc('stop_grace_period: 1m30s')).stopGracePeriodMs, 90000);
    assert.equal((await svc('stop_grace_period: 2')).stopGracePeriodMs, 2000);
  });
  it('labels list or map; user and image', async () => {
    assert.deepEqual((await svc('labels:\n  - a=1\n  - b')).labels, { a: '1', b: '' });
    assert.deepEqual((await svc('labels:\n  a: 1\n  b: x')).labels, { a: '1', b: 'x' });
    const s = await svc('user: "1000:1000"');
    assert.equal(s.user, '1000:1000');
    assert.equal(s.image, 'img');
  });
});

describe('x-herd', () => {
  it('defaults', async () => {
    assert.deepEqual((await svc('')).herd, {
      lb: { algorithm: 'round_robin' },
      healUnhealthy: true,
      extra: {},
    });
  });
  it('every known key; rollout kept in extra for the engine', async () => {
    const s = await svc(
      'x-herd:\n  runtime: process\n  heal_unhealthy: false\n  lb:\n    algorithm: hash\n    hash_on: header:X-User\n    sticky:\n      cookie: sid\n  rollout: {parallelism: 2, order: stop-first, ready_timeout: 90s}',
    );
    assert.deepEqual(s.herd, {
      runtime: 'process',
      healUnhealthy: false,
      lb: { algorithm: 'hash', hashOn: { kind: 'header', name: 'X-User' }, stickyCookie: 'sid' },
      extra: { rollout: { parallelism: 2, order: 'stop-first', ready_timeout: '90s' } },
    });
    assert.deepEqual((await svc('x-herd:\n  lb: {sticky: true}')).herd.lb, {
      algorithm: 'round_robin',
      stickyCookie: 'herd_sticky',
    });
    assert.deepEqual((await svc('x-herd:\n  lb: {algorithm: hash}')).herd.lb, {
      algorithm: 'hash',
      hashOn: { kind: 'ip' },
    });
    assert.deepEqual((await svc('x-herd:\n  lb: {hash_on: "cookie:s"}')).herd.lb, {
      algorithm: 'hash',
      hashOn: { kind: 'cookie', name: 's' },
    });
  });
  it('autoscale is kept for the autoscaler, scale to zero included', async () => {
    const { p } = await load(
      'services:\n  web:\n    command: x\n    expose: ["5000"]\n    x-herd:\n      autoscale: {min: 1, max: 4, rps: 50}\n',
    );
    assert.deepEqual(p.services.web?.herd.extra, { autoscale: { min: 1, max: 4, rps: 50 } });
    assert.deepEqual(p.warnings, []);
    const later = await load(
      'services:\n  w:\n    command: x\n    expose: ["5000"]\n    x-herd:\n      autoscale: {min: 0, max: 4, cpu: 50, idle: 1m}\n',
    );
    assert.deepEqual(later.p.warnings, [], 'scale to zero (min 0, idle) is supported');
  });
  it('top-level x-herd.metrics is kept for the daemon', async () => {
    const { p } = await load('x-herd:\n  metrics: {listen: "127.0.0.1:9500"}\nservices: {}\n');
    assert.deepEqual(p.herd.extra.metrics, { listen: '127.0.0.1:9500' });
  });
  it('top-level x-herd.proxy is kept for the balancer', async () => {
    const { p } = await load('x-herd:\n  proxy: {workers: 2}\nservices: {}\n');
    assert.deepEqual(p.herd, { extra: { proxy: { workers: 2 } } });
  });
});

describe('anchors, aliases, merge keys, warnings', () => {
  it('resolves <<, anchors and x- keys; warns about ignored keys once', async () => {
    const { p } = await load(
      [
        'version: "3.8"',
        'x-base: &base',
        '  image: shared',
        '  restart: always',
        '  networks: [n]',
        'services:',
        '  a:',
        '    <<: *base',
        '    x-note: hi',
        '  b:',
        '    <<: *base',
        '    image: own',
        '    privileged: true',
        '    logging: {driver: none}',
        'networks:',
        '  n: {}',
      ].join('\n'),
    );
    assert.equal(p.services.a?.image, 'shared');
    assert.equal(p.services.b?.image, 'own');
    assert.deepEqual(p.services.b?.restart, { condition: 'always' });
    // Both run in Docker (image:), which joins their `networks`: no warning for those.
    assert.deepEqual(p.warnings, [
      'the attribute `version` is obsolete, it will be ignored; please remove it to avoid confusion',
      'service "b": herd does not honour `privileged`, `logging` (ignored)',
    ]);
  });
});

describe('resource keys the process runtime cannot apply', () => {
  const resources = [
    '    pids_limit: 100',
    '    cpus: 1.5',
    '    mem_limit: 1g',
    '    deploy:',
    '      resources:',
    '        limits: {cpus: "0.5", memory: 512m, pids: 10}',
    '        reservations:',
    '          memory: 100m',
    '          devices: [{capabilities: [gpu]}]',
  ];
  it('are listed once for a process service; memory, cpu and pids limits are applied, so not listed', async () => {
    const { p } = await load(
      ['services:', '  web:', '    command: x', ...resources, '    scale: 2'].join('\n'),
    );
    assert.deepEqual(p.warnings, [
      'service "web": `deploy.resources.reservations.devices` is ignored by the process runtime (a process replica is limited in memory, CPU and pids only; run the service in Docker for the others)',
    ]);
    const one = await load(
      'services:\n  w:\n    command: x\n    deploy: {resources: {reservations: {cpus: "1"}}}\n',
    );
    assert.match(
      one.p.warnings[0] ?? '',
      /`deploy.resources.reservations.cpus` is ignored by the process runtime/,
    );
  });
  it('are not listed for containers, nor for memory limits alone', async () => {
    for (const head of [
      '    image: x',
      '    build: .',
      '    command: x\n    x-herd: {runtime: docker}',
    ]) {
      const { p } = await load(['services:', '  web:', head, ...resources].join('\n'));
      assert.deepEqual(p.warnings, [], head);
    }
    const forced = await load(
      'services:\n  web:\n    image: x\n    command: y\n    deploy: {resources: {reservations: {cpus: "1"}}}\n    x-herd: {runtime: process}\n',
    );
    assert.equal(forced.p.warnings.length, 1);
    const memory = await load(
      'services:\n  web:\n    command: x\n    mem_limit: 1g\n    deploy: {resources: {limits: {memory: 1g}}}\n',
    );
    assert.deepEqual(memory.p.warnings, []);
  });
});

describe('service-level resource keys', () => {
  it('cpus, mem_limit, mem_reservation, pids_limit fold into resources; deploy wins', async () => {
    const s = await svc('cpus: 1.5\nmem_limit: 512m\nmem_reservation: 256m\npids_limit: 100');
    assert.deepEqual(s.resources, {
      limits: { cpus: 1.5, memoryBytes: 512 * 1024 ** 2, pids: 100 },
      reservations: { memoryBytes: 256 * 1024 ** 2 },
    });
    const both = await svc('mem_limit: 1g\ndeploy:\n  resources:\n    limits:\n      memory: 2g');
    assert.equal(both.resources.limits.memoryBytes, 2 * 1024 ** 3);
  });
  it('cpu_shares and memswap_limit (-1: unlimited swap; 0: not set)', async () => {
    const s = await svc('mem_limit: 64m\nmemswap_limit: 128m\ncpu_shares: 512');
    assert.equal(s.resources.memswapBytes, 128 * 1024 ** 2);
    assert.equal(s.resources.cpuShares, 512);
    assert.equal((await svc('mem_limit: 64m\nmemswap_limit: -1')).resources.memswapBytes, -1);
    const unset = await svc('memswap_limit: 0\ncpu_shares: 0');
    assert.equal(unset.resources.memswapBytes, undefined);
    assert.equal(unset.resources.cpuShares, undefined);
  });
});
