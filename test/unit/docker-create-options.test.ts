import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PortSpec } from '../../src/compose/model.ts';
import {
  builtImageName,
  containerCreateOptions,
  healthConfig,
  oneOffCreateOptions,
  volumeEngineName,
} from '../../src/runtime/docker/create-options.ts';
import { resolveEngineAddress } from '../../src/runtime/docker/connect.ts';
import { specFor, testProject, testService } from '../helpers/docker-project.ts';

describe('containerCreateOptions', () => {
  const service = testService('api', {
    image: 'example/api:1',
    command: ['serve', '--port', '3000'],
    entrypoint: ['/entry'],
    environment: { MODE: 'prod' },
    workingDir: '/srv',
    user: '1000:1000',
    ports: [{ target: 3000, protocol: 'tcp' }],
    expose: [{ port: 9090, protocol: 'tcp' }],
    stopSignal: 'SIGINT',
    stopGracePeriodMs: 2500,
    labels: { team: 'core' },
    volumes: [
      { type: 'bind', source: 'conf', target: '/conf', readOnly: true },
      { type: 'volume', source: 'cache', target: '/cache', readOnly: false },
      { type: 'volume', target: '/anon', readOnly: false },
      { type: 'tmpfs', target: '/scratch', readOnly: false },
    ],
    resources: { limits: { memoryBytes: 1 << 28, cpus: 1.5, pids: 100 }, reservations: {} },
  });
  const project = testProject('shop', [service], '/home/me/shop');
  const opts = containerCreateOptions({
    project,
    service,
    spec: specFor(project, 'api', 2, { env: { MODE: 'prod', PORT: '3000' }, port: 3000 }),
    image: 'example/api:1',
  });

  it('names, labels and commands the container as Compose would', () => {
    assert.equal(opts.name, 'shop-api-2');
    assert.deepEqual(opts.Cmd, ['serve', '--port', '3000']);
    assert.deepEqual(opts.Entrypoint, ['/entry']);
    assert.deepEqual(opts.Env, ['MODE=prod', 'PORT=3000']);
    assert.equal(opts.WorkingDir, '/srv');
    assert.equal(opts.User, '1000:1000');
    assert.equal(opts.Labels?.['com.docker.compose.project'], 'shop');
    assert.equal(opts.Labels?.['com.docker.compose.container-number'], '2');
    assert.equal(opts.Labels?.['com.docker.compose.project.working_dir'], '/home/me/shop');
    assert.equal(opts.Labels?.team, 'core');
    assert.match(opts.Labels?.['com.docker.compose.config-hash'] ?? '', /^[0-9a-f]{64}$/);
  });

  it('publishes ports and expose on 127.0.0.1 with ephemeral host ports', () => {
    assert.deepEqual(opts.HostConfig?.PortBindings, {
      '3000/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
      '9090/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    });
  });

  it('joins the project network under the service name', () => {
    assert.equal(opts.HostConfig?.NetworkMode, 'shop_default');
    assert.deepEqual(opts.NetworkingConfig?.EndpointsConfig?.shop_default?.Aliases, [
      'api',
      'shop-api-2',
    ]);
  });

  it('joins the networks the service names, with their aliases, and binds file secrets', () => {
    const svc = testService('api', {
      image: 'x',
      networks: { front: { aliases: ['www'] }, back: { aliases: [] } },
      secrets: [{ source: 'tok', target: '/run/secrets/tok' }],
      configs: [{ source: 'inline', target: '/etc/app.conf' }],
    });
    const p = {
      ...testProject('shop', [svc], '/home/me/shop'),
      secrets: { tok: { external: false, file: '/home/me/shop/tok.txt' } },
      configs: { inline: { external: false, content: 'a=1' } },
      networks: {
        front: { name: 'shop_front', external: false, internal: false, labels: {} },
        back: { name: 'shared', external: true, internal: false, labels: {} },
      },
    };
    const o = containerCreateOptions({
      project: p,
      service: svc,
      spec: specFor(p, 'api'),
      image: 'x',
    });
    assert.equal(o.HostConfig?.NetworkMode, 'shared');
    assert.deepEqual(o.NetworkingConfig?.EndpointsConfig, {
      shared: { Aliases: ['api', 'shop-api-1'] },
      shop_front: { Aliases: ['api', 'shop-api-1', 'www'] },
    });
    // A `content:` config is copied in at start (runtime.ts), so only the file secret is bound.
    assert.deepEqual(o.HostConfig?.Mounts, [
      { Type: 'bind', Source: '/home/me/shop/tok.txt', Target: '/run/secrets/tok', ReadOnly: true },
    ]);
  });

  it('stops, limits and never restarts through the engine', () => {
    assert.equal(opts.StopSignal, 'SIGINT');
    assert.equal(opts.StopTimeout, 3, 'grace rounded up to whole seconds');
    assert.deepEqual(opts.HostConfig?.RestartPolicy, { Name: 'no' });
    assert.equal(opts.HostConfig?.Memory, 1 << 28);
    assert.equal(opts.HostConfig?.NanoCpus, 1_500_000_000);
    assert.equal(opts.HostConfig?.PidsLimit, 100);
    for (const key of ['MemorySwap', 'MemoryReservation', 'CpuShares'] as const)
      assert.equal(opts.HostConfig?.[key], undefined, key);
  });

  it('passes memswap_limit, the memory reservation and cpu_shares on as Compose does', () => {
    const limited = testService('api', {
      image: 'example/api:1',
      resources: {
        limits: { memoryBytes: 1 << 28 },
        reservations: { memoryBytes: 1 << 27 },
        memswapBytes: -1,
        cpuShares: 512,
      },
    });
    const shop = testProject('shop', [limited], '/home/me/shop');
    const host = containerCreateOptions({
      project: shop,
      service: limited,
      spec: specFor(shop, 'api', 1),
      image: 'example/api:1',
    }).HostConfig;
    assert.equal(host?.MemorySwap, -1);
    assert.equal(host?.MemoryReservation, 1 << 27);
    assert.equal(host?.CpuShares, 512);
  });

  it('mounts binds from the project folder and prefixes named volumes', () => {
    assert.deepEqual(opts.HostConfig?.Mounts, [
      { Type: 'bind', Source: '/home/me/shop/conf', Target: '/conf', ReadOnly: true },
      { Type: 'volume', Source: 'shop_cache', Target: '/cache', ReadOnly: false },
      { Type: 'volume', Source: '', Target: '/anon', ReadOnly: false },
      { Type: 'tmpfs', Source: '', Target: '/scratch', ReadOnly: false },
    ]);
  });

  it('keeps the image CMD when neither the replica nor the service has a command', () => {
    const bare = testService('bare', { image: 'x' });
    const p = testProject('p', [bare]);
    const o = containerCreateOptions({
      project: p,
      service: bare,
      spec: specFor(p, 'bare'),
      image: 'x',
    });
    assert.equal(o.Cmd, undefined);
    assert.equal(o.Entrypoint, undefined);
    assert.equal(o.Healthcheck, undefined);
  });
});

describe('oneOffCreateOptions', () => {
  const service = testService('api', {
    image: 'example/api:1',
    ports: [{ target: 3000, protocol: 'tcp' }],
    workingDir: '/srv',
    networks: { front: { aliases: ['www'] }, back: { aliases: [] } },
  });
  const project = {
    ...testProject('shop', [service], '/home/me/shop'),
    networks: {
      front: { name: 'shop_front', external: false, internal: false, labels: {} },
      back: { name: 'shop_back', external: false, internal: false, labels: {} },
    },
  };
  const spec = { ...specFor(project, 'api', 1, { port: 3000 }), name: 'shop-api-run-0123abcd' };
  const run = (autoRemove: boolean, tty: boolean, detach?: boolean, publish?: PortSpec[]) =>
    oneOffCreateOptions({
      project,
      service,
      spec,
      image: 'example/api:1',
      slug: '0123abcd'.padEnd(64, '0'),
      replica: 'run-0123abcd',
      tty,
      autoRemove,
      detach,
      publish,
    });

  it("is the replica's container with Compose's one-off labels, stdin open, --rm as AutoRemove", () => {
    const opts = run(true, false);
    assert.equal(opts.name, 'shop-api-run-0123abcd');
    assert.equal(opts.WorkingDir, '/srv');
    assert.equal(opts.Labels?.['com.docker.compose.oneoff'], 'True');
    assert.equal(opts.Labels?.['com.docker.compose.container-number'], '-1');
    assert.equal(opts.Labels?.['com.docker.compose.slug'], '0123abcd'.padEnd(64, '0'));
    assert.equal(opts.Labels?.['dev.herd.replica'], 'run-0123abcd');
    assert.equal(opts.Labels?.['dev.herd.config-hash'], undefined);
    assert.equal(opts.HostConfig?.AutoRemove, true);
    assert.equal(opts.OpenStdin, true);
    assert.equal(opts.Tty, false);
    assert.equal(run(false, true).HostConfig?.AutoRemove, false);
    assert.equal(run(false, true).Tty, true);
  });

  it('detached (-d): nothing attached, stdin not held open', () => {
    const opts = run(false, false, true);
    assert.deepEqual(
      [opts.OpenStdin, opts.StdinOnce, opts.AttachStdin, opts.AttachStdout, opts.AttachStderr],
      [false, false, false, false, false],
    );
    assert.equal(run(false, false).AttachStdout, true);
  });

  it('-p / --service-ports: the engine publishes those ports, as docker run -p does', () => {
    const opts = run(false, false, false, [
      { target: 3000, protocol: 'tcp', published: { start: 8080, end: 8080 }, hostIp: '127.0.0.1' },
      { target: 9229, protocol: 'tcp' },
      { target: 53, protocol: 'udp', published: { start: 5300, end: 5301 } },
    ]);
    assert.deepEqual(opts.HostConfig?.PortBindings, {
      '3000/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }],
      '9229/tcp': [{ HostIp: '', HostPort: '' }],
      '53/udp': [{ HostIp: '', HostPort: '5300-5301' }],
    });
    for (const key of ['3000/tcp', '9229/tcp', '53/udp'])
      assert.ok(key in (opts.ExposedPorts ?? {}), key);
  });

  it("publishes no port and takes none of the service's network aliases", () => {
    const opts = run(false, false);
    assert.equal(opts.HostConfig?.PortBindings, undefined);
    assert.deepEqual(opts.NetworkingConfig?.EndpointsConfig, { shop_front: {}, shop_back: {} });
  });
});

describe('healthConfig', () => {
  it('passes durations in nanoseconds and the test as CMD / CMD-SHELL', () => {
    const base = {
      intervalMs: 1500,
      timeoutMs: 2000,
      retries: 4,
      startPeriodMs: 3000,
      startIntervalMs: 500,
    };
    assert.deepEqual(
      healthConfig({ ...base, test: { kind: 'exec', argv: ['curl', '-f', 'http://localhost'] } }),
      {
        Test: ['CMD', 'curl', '-f', 'http://localhost'],
        Interval: 1_500_000_000,
        Timeout: 2_000_000_000,
        Retries: 4,
        StartPeriod: 3_000_000_000,
        StartInterval: 500_000_000,
      },
    );
    assert.deepEqual(
      healthConfig({ ...base, test: { kind: 'shell', command: 'pg_isready' } }).Test,
      ['CMD-SHELL', 'pg_isready'],
    );
    assert.equal(healthConfig(base).Test, undefined, 'no test: the image HEALTHCHECK stays');
  });
});

describe('names', () => {
  it('uses <project>-<service> for built images without image:', () => {
    assert.equal(
      builtImageName('shop', testService('web', { build: { context: '/x', args: {} } })),
      'shop-web',
    );
    assert.equal(builtImageName('shop', testService('web', { image: 'me/web:2' })), 'me/web:2');
  });

  it('prefixes named volumes unless external or renamed', () => {
    const p = testProject('shop', []);
    p.volumes = {
      data: { name: 'data', external: false, labels: {} },
      shared: { name: 'shared', external: true, labels: {} },
      custom: { name: 'my-custom', external: false, labels: {} },
    };
    assert.equal(volumeEngineName(p, 'data'), 'shop_data');
    assert.equal(volumeEngineName(p, 'shared'), 'shared');
    assert.equal(volumeEngineName(p, 'custom'), 'my-custom');
    assert.equal(volumeEngineName(p, 'undeclared'), 'shop_undeclared');
  });
});

describe('resolveEngineAddress', () => {
  it('reads DOCKER_HOST, defaulting to /var/run/docker.sock', () => {
    assert.deepEqual(resolveEngineAddress({}), {
      kind: 'unix',
      socketPath: '/var/run/docker.sock',
    });
    assert.deepEqual(resolveEngineAddress({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }), {
      kind: 'unix',
      socketPath: '/run/user/1000/docker.sock',
    });
    assert.deepEqual(resolveEngineAddress({ DOCKER_HOST: 'tcp://127.0.0.1:2375' }), {
      kind: 'tcp',
      host: '127.0.0.1',
      port: 2375,
    });
  });
});
