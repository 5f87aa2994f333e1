// A tiny Redis client (RESP2 over TCP, Node built-ins only): one connection, commands answered
// in order. Enough for a queue: blocking commands simply wait for their turn on the socket.
import { connect } from 'node:net';

class ReplyError extends Error {}

/** Parses one reply from `buf` at `pos`; returns [value, nextPos], or undefined if incomplete. */
function parse(buf, pos) {
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString('utf8', pos + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return [line, next];
    case '-':
      return [new ReplyError(line), next];
    case ':':
      return [Number(line), next];
    case '$': {
      const len = Number(line);
      if (len < 0) return [null, next];
      if (buf.length < next + len + 2) return undefined;
      return [buf.toString('utf8', next, next + len), next + len + 2];
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return [null, next];
      const items = [];
      let at = next;
      for (let i = 0; i < n; i++) {
        const r = parse(buf, at);
        if (!r) return undefined;
        items.push(r[0]);
        at = r[1];
      }
      return [items, at];
    }
    default:
      throw new Error(`unexpected RESP type ${JSON.stringify(type)}`);
  }
}

function encode(args) {
  const parts = [`*${args.length}\r\n`];
  for (const a of args) {
    const s = String(a);
    parts.push(`$${Buffer.byteLength(s)}\r\n${s}\r\n`);
  }
  return parts.join('');
}

/** Connects to Redis; resolves with `{ command(...args), close() }` once the socket is open. */
export function createClient({ host = '127.0.0.1', port = 6379 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const pending = [];
    let buf = Buffer.alloc(0);
    let closed;
    socket.on('data', (chunk) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      for (;;) {
        if (buf.length === 0) break;
        const r = parse(buf, 0);
        if (!r) break;
        buf = buf.subarray(r[1]);
        const p = pending.shift();
        if (!p) continue;
        if (r[0] instanceof ReplyError) p.reject(r[0]);
        else p.resolve(r[0]);
      }
    });
    const fail = (err) => {
      closed = err;
      for (const p of pending.splice(0)) p.reject(err);
    };
    socket.on('error', (err) => {
      fail(err);
      reject(err);
    });
    socket.on('close', () => fail(new Error('connection to redis closed')));
    socket.once('connect', () =>
      resolve({
        command(...args) {
          if (closed) return Promise.reject(closed);
          return new Promise((res, rej) => {
            pending.push({ resolve: res, reject: rej });
            socket.write(encode(args));
          });
        },
        close() {
          socket.end();
        },
      }),
    );
  });
}

/** Redis's address from herd's service env vars (or REDIS_HOST/REDIS_PORT, as with Compose). */
export function redisAddress(env = process.env) {
  return {
    host: env.REDIS_SERVICE_HOST ?? env.REDIS_HOST ?? '127.0.0.1',
    port: Number(env.REDIS_SERVICE_PORT ?? env.REDIS_PORT ?? 6379),
  };
}
