import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { convertSwarm, type Loose } from '../helpers/convert.ts';

describe('convert --to swarm', () => {
  it('writes a v3 stack file: deploy completed, depends_on a list, x-herd removed and reported', async () => {
    const { doc, report, dir } = await convertSwarm(
      `
name: shop
services:
  web:
    image: example/web:1.0
    ports: ["8080:5000"]
    env_file: app.env
    environment: { MODE: prod, PRICE: "$$5" }
    healthcheck: { test: ["CMD", "curl", "-f", "http://localhost:5000/health"], interval: 10s, start_period: 5s, start_interval: 1s }
    deploy: { replicas: 3, resources: { limits: { memory: 512M, cpus: "0.5", pids: 100 } } }
    depends_on: { redis: { condition: service_healthy } }
    restart: on-failure:4
    volumes: ["./static:/srv/static:ro", "cache:/cache"]
    secrets: [token]
    x-herd: { autoscale: { min: 2, max: 10, cpu: 70 }, rollout: { parallelism: 2, order: start-first } }
    x-team: payments
  redis:
    image: redis:7
    expose: ["6379"]
    healthcheck: { disable: true }
    container_name: the-redis
  tool:
    command: ["./tool"]
volumes:
  cache: {}
secrets:
  token: { file: ./token.txt }
x-herd: { proxy: { workers: 2 } }
`,
      { 'app.env': 'LEVEL=debug\n', 'token.txt': 't\n' },
    );
    const d = doc as Loose;
    assert.equal(d.version, '3.8');
    assert.equal(d.name, undefined);
    assert.deepEqual(Object.keys(d.services), ['web', 'redis']);
    const web = d.services.web;
    assert.deepEqual(
      web.environment,
      { LEVEL: 'debug', MODE: 'prod', PRICE: '$$5' },
      'env_file inlined, $ doubled',
    );
    assert.deepEqual(web.ports, [{ target: 5000, published: 8080 }]);
    assert.deepEqual(web.depends_on, ['redis']);
    assert.deepEqual(web.deploy, {
      replicas: 3,
      resources: { limits: { cpus: '0.5', memory: '512M' } },
      restart_policy: { condition: 'on-failure', max_attempts: 4 },
      update_config: { parallelism: 2, order: 'start-first' },
    });
    assert.deepEqual(web.healthcheck, {
      test: ['CMD', 'curl', '-f', 'http://localhost:5000/health'],
      interval: '10s',
      timeout: '30s',
      retries: 3,
      start_period: '5s',
    });
    assert.deepEqual(web.volumes, [`${path.join(dir, 'static')}:/srv/static:ro`, 'cache:/cache']);
    assert.equal(web['x-herd'], undefined);
    assert.equal(web['x-team'], 'payments');
    assert.deepEqual(web.secrets, ['token']);
    assert.deepEqual(d.secrets, { token: { file: path.join(dir, 'token.txt') } });
    assert.deepEqual(d.volumes, { cache: {} });
    assert.equal(d['x-herd'], undefined);
    // a disabled healthcheck stays disabled, or Swarm would run the image's
    assert.deepEqual(d.services.redis.healthcheck, { disable: true });
    const dropped = report.findings.filter((f) => f.kind === 'not converted');
    assert.deepEqual(dropped.map((f) => f.at).sort(), [
      'services.redis.container_name',
      'services.tool',
      'services.web.deploy.resources.limits.pids',
      'services.web.healthcheck.start_interval',
      'services.web.x-herd.autoscale',
      'x-herd.proxy',
    ]);
    assert.match(
      dropped.find((f) => f.at === 'services.web.x-herd.autoscale')?.message ?? '',
      /no autoscaling/,
    );
  });
});
