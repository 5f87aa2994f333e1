// The ingress's front over real sockets, before a real HTTP service (standing in for the pool the
// daemon resolves a route to): certificates by SNI from herd's CA or from a list of the user's
// pairs, the HTTPS redirect and HSTS (both off unless asked), X-Forwarded-* over TLS, and a
// WebSocket-style upgrade over TLS.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import type { IngressSettings, TlsPair } from '../../src/compose/ingress-settings.ts';
import type { Route } from '../../src/compose/routes.ts';
import { LocalCA } from '../../src/proxy/ingress/ca.ts';
import { IngressServer } from '../../src/proxy/ingress/front.ts';
import { allocatePort } from '../../src/runtime/ports.ts';
import { echoOverUpgrade } from '../helpers/raw-http.ts';
import { tempDir } from '../helpers/tmp.ts';

const route = (host: string): Route => ({
  service: 'api',
  host,
  path: '/',
  stripPrefix: false,
  port: 80,
  source: 'test',
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** The service: says what it was asked and how; answers an Upgrade by echoing over the tunnel. */
async function startService(): Promise<{ server: Server; port: number }> {
  const server = createServer((q, r) =>
    r.end(
      JSON.stringify({
        url: q.url,
        proto: q.headers['x-forwarded-proto'],
        host: q.headers['x-forwarded-host'],
        xff: q.headers['x-forwarded-for'],
      }),
    ),
  );
  server.on('upgrade', (_q, sock) => {
    sock.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n');
    sock.on('data', (d) => sock.write(`echo:${d}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

async function startIngress(
  settings: Omit<IngressSettings, 'http' | 'https'>,
  routes: Route[],
  servicePort: number,
): Promise<{ ingress: IngressServer; http: number; https: number }> {
  const [http, https] = [await allocatePort(), await allocatePort()];
  const ingress = new IngressServer(
    {
      ...settings,
      http: { host: '127.0.0.1', port: http },
      https: { host: '127.0.0.1', port: https },
    },
    routes,
    () => ({ host: '127.0.0.1', port: servicePort }),
  );
  await ingress.listen();
  return { ingress, http, https };
}

function collect(res: import('node:http').IncomingMessage): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let body = '';
    res.on('data', (d) => (body += d));
    res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    res.on('error', reject);
  });
}

function plainGet(port: number, host: string, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host } }, (res) =>
      collect(res).then(resolve, reject),
    );
    req.on('error', reject);
    req.end();
  });
}

/** HTTPS (HTTP/1.1) to 127.0.0.1 with `host` in SNI and Host, trusting only `ca`. */
function tlsGet(port: number, host: string, ca: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path: '/', servername: host, ca, headers: { host }, agent: false },
      (res) => collect(res).then(resolve, reject),
    );
    req.on('error', reject);
    req.end();
  });
}

/** The certificate the server presents for `servername`, and whether `ca` vouches for it. */
function peerCert(
  port: number,
  servername: string,
  ca: string,
): Promise<{ cert: PeerCertificate; authorized: boolean; error?: string }> {
  return new Promise((resolve, reject) => {
    const sock = tlsConnect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: false });
    sock.on('secureConnect', () => {
      const cert = sock.getPeerCertificate();
      const error = sock.authorizationError ? String(sock.authorizationError) : undefined;
      sock.destroy();
      resolve({ cert, authorized: sock.authorized, ...(error ? { error } : {}) });
    });
    sock.on('error', reject);
  });
}

/** An HTTP/1.1 Upgrade over TLS through the ingress, then bytes both ways. */
function tlsTunnel(port: number, host: string, ca: string): Promise<string> {
  const sock = tlsConnect({
    host: '127.0.0.1',
    port,
    servername: host,
    ca,
    ALPNProtocols: ['http/1.1'],
  });
  return echoOverUpgrade(sock, host, 'echo:ping', 'the TLS tunnel');
}

describe('ingress with tls: internal', () => {
  let service: { server: Server; port: number };
  let front: Awaited<ReturnType<typeof startIngress>>;
  let ca: string;
  const data = tempDir('ingress-front-ca');
  const savedXdg = process.env.XDG_DATA_HOME;

  before(async () => {
    // The CA is the user's: this test keeps its own.
    process.env.XDG_DATA_HOME = data;
    service = await startService();
    front = await startIngress(
      { tls: 'internal', redirectHttps: false },
      [route('a.test'), route('*.wild.test')],
      service.port,
    );
    ca = LocalCA.open().certPem;
  });

  after(async () => {
    await front.ingress.close();
    service.server.close();
    if (savedXdg === undefined) delete process.env.XDG_DATA_HOME;
    else process.env.XDG_DATA_HOME = savedXdg;
  });

  it('keeps the CA under $XDG_DATA_HOME/herd, its key private', () => {
    assert.equal(statSync(join(data, 'herd', 'ca', 'ca.key')).mode & 0o777, 0o600);
    assert.match(ca, /^-----BEGIN CERTIFICATE-----\n/);
  });

  it('answers plain HTTP directly, and HTTPS without HSTS unless asked', async () => {
    const plain = await plainGet(front.http, 'a.test', '/p?q=1');
    assert.equal(plain.status, 200, 'no redirect to https by default');
    assert.deepEqual(JSON.parse(plain.body), {
      url: '/p?q=1',
      proto: 'http',
      host: 'a.test',
      xff: '127.0.0.1',
    });
    const tls = await tlsGet(front.https, 'a.test', ca);
    assert.equal(tls.status, 200);
    assert.equal(tls.headers['strict-transport-security'], undefined);
    assert.equal(JSON.parse(tls.body).proto, 'https');
    assert.equal(JSON.parse(tls.body).host, 'a.test');
  });

  it('issues certificates for routed names only, a wildcard route one wildcard certificate', async () => {
    const exact = await peerCert(front.https, 'a.test', ca);
    assert.equal(exact.authorized, true, exact.error);
    assert.equal(exact.cert.subjectaltname, 'DNS:a.test');
    const wild = await peerCert(front.https, 'x.wild.test', ca);
    assert.equal(wild.authorized, true, wild.error);
    assert.equal(wild.cert.subjectaltname, 'DNS:*.wild.test');
    // Made-up names get the fallback certificate, not one signed for them.
    for (const name of ['evil.test', 'deep.x.wild.test']) {
      const other = await peerCert(front.https, name, ca);
      assert.equal(other.cert.subjectaltname, 'DNS:localhost', name);
    }
  });

  it('passes a WebSocket-style upgrade over TLS through to the service', async () => {
    assert.match(await tlsTunnel(front.https, 'a.test', ca), /^HTTP\/1\.1 101[\s\S]*echo:ping$/);
  });
});

describe('ingress with the user certificates', () => {
  let service: { server: Server; port: number };
  let front: Awaited<ReturnType<typeof startIngress>>;
  let ca: string;

  before(async () => {
    service = await startService();
    const authority = LocalCA.open(join(tempDir('ingress-front-own'), 'ca'));
    ca = authority.certPem;
    const pair = (name: string): TlsPair => ({
      certFile: `${name}.crt`,
      ...authority.issue(name),
      names: [name],
    });
    front = await startIngress(
      { tls: [pair('a.test'), pair('b.test')], redirectHttps: true, hstsSeconds: 600 },
      [route('a.test'), route('b.test')],
      service.port,
    );
  });

  after(async () => {
    await front.ingress.close();
    service.server.close();
  });

  it('picks the pair by SNI, the first one for a name none holds', async () => {
    for (const [sni, served] of [
      ['a.test', 'DNS:a.test'],
      ['b.test', 'DNS:b.test'],
      ['c.test', 'DNS:a.test'],
    ]) {
      const got = await peerCert(front.https, sni!, ca);
      assert.equal(got.cert.subjectaltname, served, sni);
    }
    assert.equal((await tlsGet(front.https, 'b.test', ca)).status, 200);
  });

  it('redirects plain HTTP to https and sends HSTS when asked', async () => {
    const r = await plainGet(front.http, 'b.test:8080', '/x?y=1');
    assert.equal(r.status, 308);
    assert.equal(r.headers.location, `https://b.test:${front.https}/x?y=1`);
    const tls = await tlsGet(front.https, 'a.test', ca);
    assert.equal(tls.headers['strict-transport-security'], 'max-age=600');
  });
});
