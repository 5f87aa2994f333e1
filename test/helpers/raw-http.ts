// A raw HTTP/1.x client for the proxy tests: sends exact bytes and reads the responses as they
// come (Content-Length framed), so a test sees header lines, their order and whether the
// connection closed, which node:http hides.
import net from 'node:net';

export interface RawResponse {
  status: number;
  /** the status line, e.g. "HTTP/1.1 200 OK" */
  statusLine: string;
  /** lower-case name → values, in order */
  headers: Map<string, string[]>;
  body: string;
}

export interface RawConn {
  /** Send bytes (a request, or part of one). */
  send(data: string | Buffer): void;
  /** The next complete response (a body framed by Content-Length, or none). */
  next(ms?: number): Promise<RawResponse>;
  /** Resolves true once the server closed the connection, false if it is still open after `ms`. */
  closed(ms?: number): Promise<boolean>;
  destroy(): void;
}

export function rawConnect(port: number): Promise<RawConn> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let ended = false;
    const waiters: (() => void)[] = [];
    const wake = (): void => {
      for (const w of waiters.splice(0)) w();
    };
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      wake();
    });
    s.on('close', () => {
      ended = true;
      wake();
    });
    s.on('error', () => {});
    const take = (): RawResponse | null => {
      const i = buf.indexOf('\r\n\r\n');
      if (i === -1) return null;
      const lines = buf.subarray(0, i).toString('latin1').split('\r\n');
      const headers = new Map<string, string[]>();
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':');
        const k = l.slice(0, c).trim().toLowerCase();
        headers.set(k, [...(headers.get(k) ?? []), l.slice(c + 1).trim()]);
      }
      const len = Number(headers.get('content-length')?.[0] ?? 0);
      if (buf.length < i + 4 + len) return null;
      const body = buf.subarray(i + 4, i + 4 + len).toString();
      buf = buf.subarray(i + 4 + len);
      return { status: Number(lines[0]!.split(' ')[1]), statusLine: lines[0]!, headers, body };
    };
    const conn: RawConn = {
      send: (d) => void s.write(d),
      next: (ms = 3000) =>
        new Promise((res, rej) => {
          const timer = setTimeout(
            () => rej(new Error(`no complete response in ${ms} ms: ${buf.toString('latin1')}`)),
            ms,
          );
          const check = (): void => {
            const r = take();
            if (r) {
              clearTimeout(timer);
              return res(r);
            }
            if (ended) {
              clearTimeout(timer);
              return rej(new Error(`closed before a complete response: ${buf.toString('latin1')}`));
            }
            waiters.push(check);
          };
          check();
        }),
      closed: (ms = 2000) =>
        new Promise((res) => {
          const timer = setTimeout(() => res(false), ms);
          const check = (): void => {
            if (ended) {
              clearTimeout(timer);
              return res(true);
            }
            waiters.push(check);
          };
          check();
        }),
      destroy: () => s.destroy(),
    };
    s.once('connect', () => resolve(conn));
    s.once('error', reject);
  });
}

/** One request on a new connection: the response and whether the server then closed. */
export async function rawRequest(
  port: number,
  data: string | Buffer,
  closeWithinMs = 1000,
): Promise<RawResponse & { closed: boolean }> {
  const c = await rawConnect(port);
  try {
    c.send(data);
    const r = await c.next();
    return { ...r, closed: await c.closed(closeWithinMs) };
  } finally {
    c.destroy();
  }
}

/** Asks for an Upgrade to the test backends' `echo` protocol on a socket being connected (plain
 * or TLS), then sends `ping` once the 101 came: resolves with all it read once `reply` arrived. */
export function echoOverUpgrade(
  sock: net.Socket,
  host: string,
  reply: string,
  what = 'the tunnel',
): Promise<string> {
  return new Promise((resolve, reject) => {
    const ask = () =>
      sock.write(
        `GET /ws HTTP/1.1\r\nhost: ${host}\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n`,
      );
    sock.once('secureConnect', ask);
    sock.once('connect', () => {
      if (!('encrypted' in sock)) ask();
    });
    let seen = '';
    sock.on('data', (d) => {
      seen += d;
      if (seen.includes('\r\n\r\n') && !seen.includes('ping')) sock.write('ping');
      if (seen.includes(reply)) {
        sock.destroy();
        resolve(seen);
      }
    });
    sock.on('error', reject);
    setTimeout(() => reject(new Error(`no echo through ${what}: ${seen}`)), 10_000).unref();
  });
}
