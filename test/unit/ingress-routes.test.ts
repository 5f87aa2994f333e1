// The ingress's routing rules without sockets: where routes come from (x-herd.routes, nginx-proxy's
// environment, Traefik's labels), how a request picks one, and what the loader refuses.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ComposeError } from '../../src/compose/errors.ts';
import { loadProject } from '../../src/compose/load.ts';
import { routesOf, type Route } from '../../src/compose/routes.ts';
import { traefikRoutes } from '../../src/compose/traefik-rule.ts';
import { LocalCA } from '../../src/proxy/ingress/ca.ts';
import { RouteTable, normalizeHost } from '../../src/proxy/ingress/table.ts';
import { tempDir } from '../helpers/tmp.ts';

const route = (service: string, host: string | undefined, p = '/'): Route => ({
  service,
  ...(host ? { host } : {}),
  path: p,
  stripPrefix: false,
  port: 80,
  source: 'test',
});

async function load(yaml: string, files: Record<string, string> = {}) {
  const dir = tempDir('ingress');
  await writeFile(path.join(dir, 'compose.yaml'), yaml);
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return { dir, project: () => loadProject({ cwd: dir, env: {} }) };
}

async function problems(yaml: string, files: Record<string, string> = {}): Promise<string> {
  const { project } = await load(yaml, files);
  try {
    await project();
  } catch (err) {
    assert.ok(err instanceof ComposeError, String(err));
    return err.message;
  }
  assert.fail('expected the load to fail');
}

describe('route table', () => {
  const table = new RouteTable([
    route('any', undefined, '/'),
    route('www', 'example.com'),
    route('api', 'example.com', '/api'),
    route('apiv2', 'example.com', '/api/v2'),
    route('wild', '*.example.com'),
    route('exact', 'shop.example.com', '/shop'),
  ]);
  const pick = (host: string, p: string) => table.match(host, p)?.service;

  it('takes the most specific host, then the longest path prefix', () => {
    assert.equal(pick('example.com', '/'), 'www');
    assert.equal(pick('example.com:8080', '/api/x'), 'api');
    assert.equal(pick('EXAMPLE.com.', '/api/v2/x'), 'apiv2');
    assert.equal(pick('a.example.com', '/'), 'wild');
    assert.equal(pick('shop.example.com', '/shop/cart'), 'exact');
    assert.equal(pick('shop.example.com', '/'), 'wild', 'outside /shop the wildcard host answers');
    assert.equal(pick('other.org', '/x'), 'any');
    assert.equal(new RouteTable([route('www', 'example.com')]).match('other.org', '/'), undefined);
  });

  it('names the certificate a host gets: its own, a wildcard one label deep, or none', () => {
    assert.equal(table.certName('example.com'), 'example.com');
    assert.equal(table.certName('Shop.Example.com.'), 'shop.example.com');
    assert.equal(table.certName('a.example.com'), '*.example.com');
    // A TLS wildcard covers one label: deeper names (routed by the wildcard) get no certificate
    // of their own, so made-up names cannot make the CA sign without end.
    assert.equal(table.certName('x.a.example.com'), undefined);
    assert.equal(table.certName('evil.org'), undefined);
    assert.equal(normalizeHost('[::1]:443'), '[::1]');
  });
});

describe('Traefik rule labels', () => {
  it('reads Host and PathPrefix joined by && and ||, with the service port', () => {
    const r = traefikRoutes({
      'traefik.http.routers.shop.rule':
        'Host(`shop.localhost`) && PathPrefix(`/shop`) || (Host(`a.test`, `b.test`))',
      'traefik.http.services.shop.loadbalancer.server.port': '8080',
    });
    assert.deepEqual(r.problems, []);
    assert.deepEqual(
      r.specs.map((s) => [s.host, s.path, s.port]),
      [
        ['shop.localhost', '/shop', 8080],
        ['a.test', '/', 8080],
        ['b.test', '/', 8080],
      ],
    );
  });

  it('warns of matchers it cannot honour and refuses what it cannot parse', () => {
    const r = traefikRoutes({
      'traefik.http.routers.x.rule': 'Host(`x.test`) && Method(`GET`)',
      'traefik.http.routers.y.rule': 'Host(`y.test`',
    });
    assert.deepEqual(
      r.specs.map((s) => s.host),
      ['x.test'],
    );
    assert.match(r.warnings.join('\n'), /Method\(\) is not supported/);
    assert.match(r.problems.join('\n'), /routers\.y\.rule: expected \) to close Host\(/);
    assert.deepEqual(
      traefikRoutes({ 'traefik.enable': 'false', 'traefik.http.routers.z.rule': 'Host(`z`)' })
        .specs,
      [],
    );
  });
});

describe('routes at load', () => {
  it('gathers x-herd.routes, VIRTUAL_HOST and labels, and exposes the routed port', async () => {
    const { project } = await load(`
x-herd:
  ingress: { http: "127.0.0.1:8080" }
services:
  api: { command: ["true"], x-herd: { routes: ["api.localhost", { host: example.com, path: /api, strip_prefix: true, port: 9000 }] } }
  www: { command: ["true"], environment: { VIRTUAL_HOST: "www.localhost,web.localhost", VIRTUAL_PORT: "3000" } }
  shop: { command: ["true"], ports: ["5000"], labels: ["traefik.http.routers.shop.rule=Host(\`shop.localhost\`)"] }
`);
    const p = await project();
    const routes = routesOf(p.services).routes;
    assert.deepEqual(
      routes.map(
        (r) => `${r.service} ${r.host}${r.path} :${r.port}${r.stripPrefix ? ' strip' : ''}`,
      ),
      [
        'api api.localhost/ :80',
        'api example.com/api :9000 strip',
        'www www.localhost/ :3000',
        'www web.localhost/ :3000',
        'shop shop.localhost/ :5000',
      ],
    );
    assert.deepEqual(p.services.api!.expose.map((x) => x.port).sort(), [80, 9000]);
    assert.deepEqual(
      p.services.www!.expose.map((x) => x.port),
      [3000],
    );
    // An ephemeral published port is per replica: the routed port gets a pool of its own.
    assert.deepEqual(
      p.services.shop!.expose.map((x) => x.port),
      [5000],
    );
  });

  it('refuses a host and path two services claim, at the service', async () => {
    const msg = await problems(`
x-herd:
  ingress: { http: "127.0.0.1:8080" }
services:
  a: { command: ["true"], x-herd: { routes: ["x.localhost/api"] } }
  b:
    command: ["true"]
    environment: { VIRTUAL_HOST: x.localhost, VIRTUAL_PATH: /api }
`);
    assert.match(
      msg,
      /compose\.yaml:7:5: services\.b: route x\.localhost\/api \(VIRTUAL_HOST\) is already claimed by service "a"/,
    );
  });

  it('reports bad routes and ingress settings at file:line:col', async () => {
    const msg = await problems(`
x-herd:
  ingress: { http: "127.0.0.1:99999", https: "127.0.0.1:8443", tlss: internal }
services:
  a: { command: ["true"], x-herd: { routes: ["bad host!", { host: ok.test, path: nope }] } }
`);
    assert.match(msg, /compose\.yaml:3:20: x-herd\.ingress\.http: port 99999/);
    assert.match(msg, /compose\.yaml:3:64: x-herd\.ingress\.tlss: unknown key/);
    assert.match(msg, /x-herd\.ingress\.https: an https address needs `tls: internal`/);
    assert.match(
      msg,
      /compose\.yaml:5:45: services\.a\.x-herd\.routes\.0: "bad host!" is not a host name/,
    );
    assert.match(msg, /services\.a\.x-herd\.routes\.1: path: expected a prefix starting with \//);
  });

  it('checks certificate files: readable, and the key matching the certificate', async () => {
    const dir = tempDir('ingress-ca');
    const ca = LocalCA.open(path.join(dir, 'ca'));
    const leaf = ca.issue('a.test');
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs1', format: 'pem' })
      .toString();
    const base = `
x-herd:
  ingress: { https: "127.0.0.1:8443", tls: { cert: a.crt, key: KEY } }
services:
  a: { command: ["true"], x-herd: { routes: ["a.test"] } }
`;
    const files = {
      'a.crt': leaf.cert,
      'a.key': leaf.key,
      'other.key': otherKey,
      'garbage.key': 'not a key\n',
    };
    const { project } = await load(base.replace('KEY', 'a.key'), files);
    await project();
    assert.match(
      await problems(base.replace('KEY', 'other.key'), files),
      /x-herd\.ingress\.tls: the key .*other\.key does not belong to the certificate .*a\.crt/,
    );
    assert.match(
      await problems(base.replace('KEY', 'missing.key'), files),
      /x-herd\.ingress\.tls: cannot read .*missing\.key \(ENOENT\)/,
    );
    assert.match(
      await problems(base.replace('KEY', 'garbage.key'), files),
      /x-herd\.ingress\.tls: cannot read .*a\.crt \/ .*garbage\.key as a PEM certificate and key/,
    );
  });

  it('warns of x-herd.routes without an ingress, and leaves VIRTUAL_HOST to nginx-proxy', async () => {
    const { project } = await load(`
services:
  www: { command: ["true"], environment: { VIRTUAL_HOST: www.localhost } }
  api: { command: ["true"], x-herd: { routes: [api.localhost] } }
`);
    const p = await project();
    assert.deepEqual(p.warnings, [
      'service "api" has x-herd.routes but the file has no `x-herd.ingress`, so nothing routes to it; add `x-herd: { ingress: { http: "127.0.0.1:80" } }`',
    ]);
    assert.deepEqual(p.services.www!.expose, []);
  });
});
