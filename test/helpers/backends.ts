// Small real backend servers for the proxy tests, and a minimal Project/Service to hang a
// proxy on. Everything listens on 127.0.0.1:0.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Project, Service, PortSpec } from '../../src/compose/model.ts';
import type { ReplicaInfo } from '../../src/engine/events.ts';
import { defaultProject, defaultService } from '../../src/compose/defaults.ts';
import { allocatePort } from '../../src/runtime/ports.ts';

export interface Backend {
  name: string;
  port: number;
  server: net.Server;
  hits: number;
  close(): Promise<void>;
}

/** An HTTP backend answering every request with its name (and echoing the request body). */
export async function httpBackend(name: string, handler?: http.RequestListener): Promise<Backend> {
  const b = { name, hits: 0 } as Backend;
  const server = http.createServer((req, res) => {
    b.hits++;
    if (handler) return handler(req, res);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      res.setHeader('x-backend', name);
      res.setHeader('x-seen-xff', String(req.headers['x-forwarded-for'] ?? ''));
      res.end(body ? `${name}:${body}` : name);
    });
  });
  server.keepAliveTimeout = 5000;
  return finish(b, server);
}

/** A TCP echo server that prefixes its replies with its name. */
export async function echoBackend(name: string): Promise<Backend> {
  const b = { name, hits: 0 } as Backend;
  const server = net.createServer((s) => {
    b.hits++;
    s.on('error', () => {});
    s.on('data', (d) => s.write(`${name}:${d.toString()}`));
  });
  return finish(b, server);
}

async function finish(b: Backend, server: net.Server): Promise<Backend> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  b.server = server;
  b.port = (server.address() as AddressInfo).port;
  b.close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return b;
}

/** A free TCP port on 127.0.0.1, drawn as herd draws replica ports (outside the kernel's
 * ephemeral range, so no outgoing connection of a parallel test takes it meanwhile). */
export const freePort = allocatePort;

export function makeService(name: string, over: Partial<Service> = {}): Service {
  return { ...defaultService(name), command: ['true'], ...over };
}

export function makeProject(services: Service[]): Project {
  return defaultProject('t', services, '/tmp');
}

/** `ports: ["127.0.0.1:<published>:<target>"]` */
export function port(
  published: number | [number, number] | undefined,
  target: number,
  extra: Partial<PortSpec> = {},
): PortSpec {
  const p: PortSpec = { target, protocol: 'tcp', hostIp: '127.0.0.1', ...extra };
  if (published !== undefined)
    p.published = Array.isArray(published)
      ? { start: published[0], end: published[1] }
      : { start: published, end: published };
  return p;
}

/** The ReplicaInfo the engine would emit for a backend listening on `port`. */
export function replica(
  service: string,
  index: number,
  port: number,
  target?: number,
): ReplicaInfo {
  return {
    service,
    index,
    name: `t-${service}-${index}`,
    state: 'running',
    health: 'none',
    host: '127.0.0.1',
    port,
    ports: target === undefined ? {} : { [target]: port },
    restarts: 0,
  };
}

/** One HTTP request through a fresh or agent-kept connection; resolves with status, headers, body. */
export function get(
  port: number,
  path = '/',
  opts: {
    headers?: Record<string, string>;
    agent?: http.Agent | false;
    method?: string;
    body?: string;
  } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: opts.headers,
        agent: opts.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Send raw bytes and collect everything until the server closes (or `ms` passes). */
export function rawExchange(port: number, data: string | Buffer, ms = 3000): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => s.destroy(), ms);
    s.on('data', (d) => chunks.push(d));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    s.write(data);
  });
}
