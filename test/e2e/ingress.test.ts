// The ingress through the herd binary: one HTTP and one HTTPS entry routing by host and path to
// three services that publish no port, with routes written three ways; TLS from herd's local CA,
// HTTP/2 by ALPN, an Upgrade tunnel, X-Forwarded-* and a stripped prefix.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { echoOverUpgrade } from '../helpers/raw-http.ts';
import { freePort, sandbox, waitFor } from '../helpers/e2e.ts';
import { tempDir } from '../helpers/tmp.ts';

const app = `
const http = require('node:http');
const who = process.env.HERD_SERVICE + '-' + process.env.HERD_REPLICA;
const s = http.createServer((q, r) => r.end(JSON.stringify({
  who, url: q.url, proto: q.headers['x-forwarded-proto'], host: q.headers['x-forwarded-host'],
  xff: q.headers['x-forwarded-for'], hop: q.headers['x-hop'] ?? null,
})));
s.on('upgrade', (q, sock) => {
  sock.write('HTTP/1.1 101 Switching Protocols\\r\\nconnection: upgrade\\r\\nupgrade: echo\\r\\n\\r\\n');
  sock.on('data', (d) => sock.write(who + ':' + d));
});
s.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

interface Answer {
  status: number;
  body: string;
}

function get(
  port: number,
  host: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, headers: { host, ...headers } },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function h2get(port: number, host: string, ca: string): Promise<Answer & { alpn: string }> {
  return new Promise((resolve, reject) => {
    // Loopback only: the name goes in SNI and :authority, the connection to 127.0.0.1.
    const session = h2connect(`https://127.0.0.1:${port}`, { ca, servername: host });
    session.on('error', reject);
    const req = session.request({ ':path': '/tls', ':authority': `${host}:${port}` });
    let body = '';
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const alpn = session.alpnProtocol ?? '';
      session.close();
      resolve({ status, body, alpn });
    });
    req.on('error', reject);
    req.end();
  });
}

/** An HTTP/1.1 Upgrade through the ingress, then bytes both ways over the tunnel. */
function tunnel(port: number, host: string): Promise<string> {
  return echoOverUpgrade(netConnect(port, '127.0.0.1'), host, ':ping');
}

test('the ingress routes by host and path, over HTTP, HTTPS and HTTP/2', async () => {
  const [http, https] = [await freePort(), await freePort()];
  const root = tempDir('e2e-ingress');
  const dir = join(root, 'front');
  mkdirSync(dir);
  writeFileSync(join(dir, 'app.js'), app);
  const compose = (httpPort: number) => `name: front
x-herd:
  ingress: { http: "127.0.0.1:${httpPort}", https: "127.0.0.1:${https}", tls: internal }
services:
  api:
    command: ["node", "app.js"]
    scale: 2
    x-herd: { routes: ["api.localhost", { host: "edge.localhost", path: /v1, strip_prefix: true }] }
  www: { command: ["node", "app.js"], environment: { VIRTUAL_HOST: www.localhost } }
  shop:
    command: ["node", "app.js"]
    labels: ["traefik.http.routers.shop.rule=Host(\`shop.localhost\`) && PathPrefix(\`/shop\`)"]
`;
  writeFileSync(join(dir, 'compose.yaml'), compose(http));
  // The CA is the user's: this run keeps its own.
  const box = sandbox(root, dir, { XDG_DATA_HOME: join(root, 'data') });
  try {
    box.ok(['up', '-d', '--wait', '--wait-timeout', '40']);
    const body = async (host: string, path: string) =>
      JSON.parse((await get(http, host, path)).body);

    // Routed by host, and round-robin over api's two replicas.
    await waitFor(
      'api through the ingress',
      async () => (await get(http, 'api.localhost', '/')).status === 200,
      15_000,
    );
    const whos = new Set<string>();
    for (let i = 0; i < 4; i++) whos.add((await body('api.localhost', '/x')).who);
    assert.deepEqual([...whos].sort(), ['api-1', 'api-2']);
    assert.equal((await body('www.localhost:80', '/')).who, 'www-1');
    assert.equal((await body('shop.localhost', '/shop/cart')).who, 'shop-1');
    // Longest match and strip_prefix: edge.localhost/v1/items reaches api as /items.
    const edge = await body('edge.localhost', '/v1/items?q=1');
    assert.equal(edge.url, '/items?q=1');
    assert.equal(edge.proto, 'http');
    assert.equal(edge.host, 'edge.localhost');
    assert.equal(edge.xff, '127.0.0.1');
    // Hop-by-hop fields stay on their hop.
    const hop = await get(http, 'api.localhost', '/', { connection: 'x-hop', 'x-hop': '1' });
    assert.equal(JSON.parse(hop.body).hop, null);

    // Nothing routed: 404, naming nothing inside.
    for (const [host, path] of [
      ['shop.localhost', '/'],
      ['unknown.localhost', '/'],
      ['edge.localhost', '/v2'],
    ]) {
      const r = await get(http, host!, path!);
      assert.equal(r.status, 404, `${host}${path}`);
      assert.doesNotMatch(r.body, /api|www|shop|127\.0\.0\.1/);
    }

    // HTTPS with herd's CA, HTTP/2 by ALPN.
    const ca = box.ok(['tls', 'ca']);
    assert.match(ca, /^-----BEGIN CERTIFICATE-----\n/);
    const tls = await h2get(https, 'api.localhost', ca);
    assert.equal(tls.alpn, 'h2');
    assert.equal(tls.status, 200);
    assert.equal(JSON.parse(tls.body).proto, 'https');
    await assert.rejects(
      h2get(https, 'api.localhost', ''),
      /self-signed|unable to verify|certificate/,
    );

    // An Upgrade goes through to the service and the bytes flow both ways.
    assert.match(await tunnel(http, 'www.localhost'), /^HTTP\/1\.1 101[\s\S]*www-1:ping$/);

    // A changed x-herd.ingress is applied by the next `herd up`: the entry moves to a new port.
    const moved = await freePort();
    writeFileSync(join(dir, 'compose.yaml'), compose(moved));
    box.ok(['up', '-d', '--wait', '--wait-timeout', '40']);
    const old = await new Promise<string>((resolve) => {
      const sock = netConnect(http, '127.0.0.1', () => {
        sock.destroy();
        resolve('accepted');
      });
      sock.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    assert.equal(old, 'ECONNREFUSED', 'the old entry is closed');
    assert.match((await get(moved, 'api.localhost', '/')).body, /"who":"api-[12]"/);
  } finally {
    box.cleanup();
  }
});
