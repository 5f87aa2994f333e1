import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { container, convertK8s, podSpec, type Loose } from '../helpers/convert.ts';
import { schemaProblems } from '../helpers/k8s-schema.ts';

const WEB_AND_REDIS = `
name: shop
services:
  web:
    image: example/web:1.0
    ports: ["8080:5000"]
    environment: { MODE: prod }
    healthcheck: { test: ["CMD", "curl", "-f", "http://localhost:5000/health"], interval: 10s, timeout: 2s, retries: 3, start_period: 5s }
    deploy: { replicas: 3, resources: { limits: { memory: 512M, cpus: "0.5" } } }
    depends_on: { redis: { condition: service_healthy } }
    x-herd: { autoscale: { min: 2, max: 10, cpu: 70 } }
  redis:
    image: redis:7
    expose: ["6379"]
    healthcheck: { test: ["CMD", "redis-cli", "ping"], interval: 5s }
`;

/** Most of what convert knows, in one file. */
const SHOP = `
name: shop
services:
  api_server:
    build: ./api
    command: ["node", "server.js", "--greeting=$$(hello)"]
    env_file: app.env
    environment: { GREETING: "cost $$5", VIRTUAL_HOST: api.example.com, VIRTUAL_PORT: "3000" }
    expose: ["3000"]
    user: "1000:1000"
    cap_add: [NET_ADMIN]
    extra_hosts: ["legacy:10.0.0.5"]
    secrets: [db_pass]
    configs: [{ source: nginx_conf, target: /etc/nginx/conf.d/default.conf }]
    depends_on:
      db: { condition: service_healthy }
      migrate: { condition: service_completed_successfully }
    deploy:
      replicas: 2
      update_config: { parallelism: 2, order: start-first, delay: 10s, monitor: 30s, failure_action: rollback }
      rollback_config: { parallelism: 1 }
      placement: { constraints: ["node.labels.zone==eu"] }
      resources: { reservations: { cpus: "0.25", memory: 128M } }
    x-herd: { autoscale: { min: 1, max: 5, rps: 50, cooldown: 1m } }
  migrate:
    image: shop/api:1
    command: ["node", "migrate.js"]
    restart: on-failure:3
    depends_on: [db]
  db:
    image: postgres:16
    environment: { POSTGRES_PASSWORD: example }
    volumes: ["pgdata:/var/lib/postgresql/data", "./init:/docker-entrypoint-initdb.d:ro"]
    healthcheck: { test: "pg_isready -U postgres", interval: 5s, timeout: 1500ms, retries: 5 }
    shm_size: 256m
    stop_grace_period: 1m
    stop_signal: SIGINT
    networks: [back]
  shop:
    image: nginx:1.27
    labels:
      traefik.http.routers.shop.rule: "Host(\`shop.example.com\`) && PathPrefix(\`/shop\`) || Host(\`www.example.com\`)"
    ports: ["8080-8082:80", "53:53/udp"]
    tmpfs: /run
    restart: unless-stopped
  agent:
    image: agent:2
    deploy: { mode: global }
    logging: { driver: json-file }
  worker:
    command: ["node", "worker.js"]
volumes:
  pgdata: {}
networks:
  back: {}
secrets:
  db_pass: { file: ./db_pass.txt }
configs:
  nginx_conf: { file: ./nginx.conf }
`;
const SHOP_FILES = {
  'app.env': 'LOG_LEVEL=debug\nAPI_TOKEN=t0ken\n',
  'db_pass.txt': 'topsecret\n',
  'nginx.conf': 'server {}\n',
};

const dropped = (c: { report: { findings: { kind: string; at: string }[] } }) =>
  c.report.findings.filter((f) => f.kind === 'not converted').map((f) => f.at);

describe('convert --to kubernetes', () => {
  it('keeps what the file says: ports, env, limits in Kubernetes units, probes, depends_on, the HPA', async () => {
    const c = await convertK8s(WEB_AND_REDIS);
    assert.deepEqual(await schemaProblems(c.objects), []);
    assert.deepEqual(c.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
      'Deployment/redis',
      'Deployment/web',
      'HorizontalPodAutoscaler/web',
      'Service/redis',
      'Service/web',
    ]);
    const web = c.get('Deployment', 'web');
    const spec = web.spec as Loose;
    assert.equal(spec.replicas, undefined, 'the HPA owns the replica count');
    assert.deepEqual(spec.selector.matchLabels, spec.template.metadata.labels);
    assert.deepEqual((c.get('Service', 'web').spec as Loose).selector, spec.selector.matchLabels);
    const w = container(web);
    assert.deepEqual(w.resources, { limits: { cpu: '500m', memory: '512Mi' } });
    assert.deepEqual(w.env, [{ name: 'MODE', value: 'prod' }]);
    const probe = {
      exec: { command: ['curl', '-f', 'http://localhost:5000/health'] },
      periodSeconds: 10,
      timeoutSeconds: 2,
      failureThreshold: 3,
    };
    assert.deepEqual(w.readinessProbe, probe);
    assert.deepEqual(w.livenessProbe, probe);
    // start_period 5s at the default start_interval 5s: one start-up failure, then the 3 retries
    assert.deepEqual(w.startupProbe, { ...probe, periodSeconds: 5, failureThreshold: 4 });
    const [wait] = podSpec(web).initContainers;
    assert.match(wait.command.join(' '), /until nc -z -w 2 redis 6379/);
    assert.deepEqual((c.get('Service', 'web').spec as Loose).ports, [
      { port: 8080, targetPort: 5000 },
    ]);
    assert.deepEqual((c.get('Service', 'redis').spec as Loose).ports, [
      { port: 6379, targetPort: 6379 },
    ]);
    const hpa = c.get('HorizontalPodAutoscaler', 'web').spec as Loose;
    assert.deepEqual(hpa, {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
        },
      ],
    });
    const redis = c.get('Deployment', 'redis');
    assert.equal((redis.spec as Loose).replicas, 1);
    assert.equal(container(redis).readinessProbe.periodSeconds, 5);
    assert.deepEqual(dropped(c), []);
  });

  it('converts a file of many features into valid objects and reports every key it cannot carry', async () => {
    const c = await convertK8s(SHOP, {}, SHOP_FILES);
    assert.deepEqual(await schemaProblems(c.objects), []);
    // names are DNS-1123, and the rename is reported
    const api = c.get('Deployment', 'api-server');
    assert.ok(
      c.report.findings.some((f) => f.at === 'services.api_server' && /api-server/.test(f.message)),
    );
    const a = container(api);
    assert.equal(a.image, 'shop-api_server');
    // Kubernetes would expand $(hello): doubled; "$5" is left alone
    assert.deepEqual(a.args, ['node', 'server.js', '--greeting=$$(hello)']);
    assert.ok(a.env.some((e: Loose) => e.name === 'GREETING' && e.value === 'cost $5'));
    assert.deepEqual(a.envFrom, [
      { configMapRef: { name: 'api-server-env' } },
      { secretRef: { name: 'api-server-env' } },
    ]);
    assert.deepEqual((c.get('ConfigMap', 'api-server-env') as Loose).data, { LOG_LEVEL: 'debug' });
    const secret = c.get('Secret', 'api-server-env') as Loose;
    assert.equal(Buffer.from(secret.data.API_TOKEN, 'base64').toString(), 't0ken');
    assert.deepEqual(a.securityContext, {
      runAsUser: 1000,
      runAsGroup: 1000,
      capabilities: { add: ['NET_ADMIN'] },
    });
    assert.deepEqual(a.resources, { requests: { cpu: '250m', memory: '128Mi' } });
    assert.ok(a.volumeMounts.some((m: Loose) => m.mountPath === '/run/secrets/db_pass'));
    assert.equal(
      Buffer.from((c.get('Secret', 'db-pass') as Loose).data.db_pass, 'base64').toString(),
      'topsecret\n',
    );
    assert.ok(a.volumeMounts.some((m: Loose) => m.mountPath === '/etc/nginx/conf.d/default.conf'));
    const apiSpec = api.spec as Loose;
    assert.deepEqual(apiSpec.strategy, {
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 2, maxUnavailable: 0 },
    });
    assert.equal(apiSpec.minReadySeconds, 30);
    assert.deepEqual(podSpec(api).nodeSelector, { zone: 'eu' });
    assert.deepEqual(podSpec(api).hostAliases, [{ ip: '10.0.0.5', hostnames: ['legacy'] }]);
    // db has no ports: a headless Service, waited for by name
    assert.equal((c.get('Service', 'db').spec as Loose).clusterIP, 'None');
    assert.deepEqual(
      podSpec(api).initContainers.map((i: Loose) => i.name),
      ['wait-for-db'],
    );
    // rps: a Pods metric; cooldown: the scale-down stabilization window
    const hpa = c.get('HorizontalPodAutoscaler', 'api-server').spec as Loose;
    assert.equal(hpa.metrics[0].pods.metric.name, 'http_requests_per_second');
    assert.equal(hpa.behavior.scaleDown.stabilizationWindowSeconds, 60);
    // VIRTUAL_HOST and VIRTUAL_PORT: an Ingress to port 3000
    const ingress = c.get('Ingress', 'api-server').spec as Loose;
    assert.equal(ingress.rules[0].host, 'api.example.com');
    assert.equal(ingress.rules[0].http.paths[0].backend.service.port.number, 3000);
    // Traefik's rule: two hosts, a path prefix
    const shopRules = (c.get('Ingress', 'shop').spec as Loose).rules;
    assert.deepEqual(
      shopRules.map((r: Loose) => [r.host, r.http.paths[0].path]),
      [
        ['shop.example.com', '/shop'],
        ['www.example.com', '/'],
      ],
    );
    assert.deepEqual(
      (c.get('Service', 'shop').spec as Loose).ports.map(
        (p: Loose) => `${p.port}:${p.targetPort}/${p.protocol ?? 'TCP'}`,
      ),
      ['8080:80/TCP', '53:53/UDP'],
    );
    // a one-shot others wait on: a Job, Compose's on-failure:3 as its back-off limit
    const job = c.get('Job', 'migrate').spec as Loose;
    assert.equal(job.backoffLimit, 3);
    assert.equal(job.template.spec.restartPolicy, 'OnFailure');
    assert.equal(c.get('DaemonSet', 'agent').kind, 'DaemonSet');
    const db = c.get('Deployment', 'db');
    assert.equal(podSpec(db).terminationGracePeriodSeconds, 60);
    assert.deepEqual(container(db).readinessProbe.exec.command, [
      '/bin/sh',
      '-c',
      'pg_isready -U postgres',
    ]);
    assert.equal(container(db).readinessProbe.timeoutSeconds, 2);
    assert.ok(
      podSpec(db).volumes.some((v: Loose) => v.persistentVolumeClaim?.claimName === 'pgdata'),
    );
    assert.ok(
      podSpec(db).volumes.some((v: Loose) => v.name === 'dshm' && v.emptyDir.sizeLimit === '256Mi'),
    );
    assert.equal(
      (c.get('PersistentVolumeClaim', 'pgdata').spec as Loose).resources.requests.storage,
      '1Gi',
    );
    assert.deepEqual(dropped(c).sort(), [
      'networks',
      'services.agent.logging',
      'services.api_server.depends_on.migrate',
      'services.api_server.deploy.rollback_config',
      'services.api_server.deploy.update_config.delay',
      'services.api_server.deploy.update_config.failure_action',
      'services.db.networks',
      'services.db.stop_signal',
      'services.db.volumes.1',
      'services.worker',
    ]);
  });

  it('follows the flags: namespace, pull policy, LoadBalancer, httpGet probes', async () => {
    const c = await convertK8s(WEB_AND_REDIS, {
      namespace: 'prod',
      imagePullPolicy: 'IfNotPresent',
      serviceType: 'LoadBalancer',
      httpProbes: true,
    });
    assert.deepEqual(await schemaProblems(c.objects), []);
    assert.ok(c.objects.every((o) => o.metadata.namespace === 'prod'));
    const web = container(c.get('Deployment', 'web'));
    assert.equal(web.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(web.readinessProbe.httpGet, { path: '/health', port: 5000 });
    assert.equal(web.readinessProbe.exec, undefined);
    // redis-cli has no HTTP form: exec stays
    assert.ok(container(c.get('Deployment', 'redis')).readinessProbe.exec);
    assert.equal((c.get('Service', 'web').spec as Loose).type, 'LoadBalancer');
    // expose-only stays inside the cluster
    assert.equal((c.get('Service', 'redis').spec as Loose).type, undefined);
  });

  it('gives services whose names collide once made DNS-safe different names', async () => {
    const c = await convertK8s(`
services:
  my_app: { image: a }
  my.app: { image: b }
  2fa: { image: c }
`);
    assert.deepEqual(
      c.objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name),
      ['my-app', 'my-app-2', 's-2fa'],
    );
    assert.deepEqual(await schemaProblems(c.objects), []);
  });

  it('refuses a bad x-herd.autoscale with the service and key named', async () => {
    await assert.rejects(
      convertK8s(`
services:
  web: { image: a, x-herd: { autoscale: { min: 3, max: 2, cpu: 70 } } }
`),
      // The loader refuses it first, at the key.
      (err: Error) =>
        /services\.web\.x-herd\.autoscale\.max: must be at least min \(3\)/.test(err.message),
    );
  });
});
