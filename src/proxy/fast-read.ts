// Socket reads without the Readable machinery: Node's `onread` reads into one shared buffer and
// calls us directly, and we copy the bytes out (usually a few hundred) into a pooled Buffer.
// That skips the 64 KiB allocation, the stream push and the 'data' event of every read.
// Accepted sockets get the same through the symbols Node's own `onread` option sets (net.Server
// has no such option); where those are missing we fall back to 'data' events.
// HERD_PROXY_DATA_EVENTS=1 forces 'data' events everywhere (for comparisons).
import net from 'node:net';

const SHARED = Buffer.allocUnsafe(64 * 1024);
const forced = process.env.HERD_PROXY_DATA_EVENTS === '1';

export type BytesHandler = (d: Buffer) => void;

function copyOut(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  SHARED.copy(b, 0, 0, n);
  return b;
}

/** `net.connect` options that deliver every read to `fn` (undefined: use 'data' events). */
export function onreadFor(fn: BytesHandler): net.OnReadOpts | undefined {
  if (forced) return undefined;
  return {
    buffer: SHARED,
    callback: (n: number) => {
      fn(copyOut(n));
      return true; // false would stop reading; pause() does that explicitly
    },
  };
}

interface OnreadSymbols {
  buffer: symbol;
  callback: symbol;
}

/** The symbols `new net.Socket({ onread })` stores its buffer and callback under. */
const symbols: OnreadSymbols | null = (() => {
  if (forced) return null;
  try {
    const onread = { buffer: Buffer.alloc(1), callback: () => true };
    const probe = new net.Socket({ onread } as net.SocketConstructorOpts);
    const own = Object.getOwnPropertySymbols(probe);
    probe.destroy();
    const buffer = own.find((s) => s.description === 'kBuffer');
    const callback = own.find((s) => s.description === 'kBufferCb');
    return buffer && callback ? { buffer, callback } : null;
  } catch {
    return null;
  }
})();

interface UserBufferHandle {
  useUserBuffer?: (b: Uint8Array) => void;
}

/** Deliver the reads of an accepted socket to `fn` from now on. */
export function readAccepted(sock: net.Socket, fn: BytesHandler): void {
  const handle = (sock as unknown as { _handle?: UserBufferHandle })._handle;
  if (symbols === null || typeof handle?.useUserBuffer !== 'function') {
    sock.on('data', fn);
    return;
  }
  const s = sock as unknown as Record<symbol, unknown>;
  s[symbols.buffer] = SHARED;
  s[symbols.callback] = (n: number) => {
    fn(copyOut(n));
  };
  handle.useUserBuffer(SHARED);
  // flowing, so that EOF still ends the socket ('end' → close)
  sock.resume();
}

/** Write `d` to `dst`, pausing `src` while `dst` is backed up (tunnels, streamed bodies). */
export function forward(src: net.Socket, dst: net.Socket, d: Buffer): void {
  if (dst.destroyed) return;
  if (!dst.write(d)) {
    src.pause();
    dst.once('drain', () => {
      if (!src.destroyed) src.resume();
    });
  }
}
