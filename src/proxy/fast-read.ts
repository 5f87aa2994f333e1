// Socket reads without the Readable machinery: Node's `onread` reads into a buffer we choose and
// calls us directly, which skips the 64 KiB allocation and shrink, the stream push and the 'data'
// event of every read. Accepted sockets get the same through the symbols Node's own `onread`
// option sets (net.Server has no such option); where those are missing we fall back to 'data'.
//
// Where a read lands: small reads (requests, small responses: a few hundred bytes) go to one
// shared buffer and are copied out, which costs less than a buffer per read. A socket whose read
// filled a good part of a buffer is streaming a body: its next reads land in buffers of its own,
// handed on as they are (no copy of body bytes), until its reads are small again.
// HERD_PROXY_DATA_EVENTS=1 forces 'data' events everywhere (for comparisons).
import net from 'node:net';

const READ_SIZE = 64 * 1024;
/** A read at least this large hands its buffer on and gets a fresh one for the next. */
const BIG_READ = 16 * 1024;
/** A streaming socket whose reads fill their buffer gets larger ones, up to this: fewer reads,
 * writes and callbacks per MiB. */
const MAX_STREAM_READ = 512 * 1024;
const SHARED = Buffer.allocUnsafe(READ_SIZE);
const forced = process.env.HERD_PROXY_DATA_EVENTS === '1';

export type BytesHandler = (d: Buffer) => void;

/** One socket's reads: which buffer the next lands in, and what is handed to `fn`. */
class Reader {
  private next = SHARED;
  private size = READ_SIZE;
  /** kBufferGen: called after each read for the buffer of the next one. */
  readonly gen = (): Buffer => this.next;
  /** kBufferCb: `n` bytes arrived in `buf`. */
  readonly cb = (n: number, buf: Buffer): boolean => {
    if (n >= BIG_READ) {
      // Streaming: hand this buffer on, and read the next into memory of its own.
      if (n === buf.length && this.size < MAX_STREAM_READ) this.size *= 2;
      else if (n < this.size >> 2 && this.size > READ_SIZE) this.size >>= 1;
      this.next = Buffer.allocUnsafeSlow(this.size);
      if (buf !== SHARED) {
        this.fn(buf.subarray(0, n));
        return true;
      }
    } else {
      this.next = SHARED;
      this.size = READ_SIZE;
    }
    const b = Buffer.allocUnsafe(n);
    buf.copy(b, 0, 0, n);
    this.fn(b);
    return true; // false would stop reading; pause() does that explicitly
  };
  constructor(private readonly fn: BytesHandler) {}
}

/** `net.connect` options that deliver every read to `fn` (undefined: use 'data' events). */
export function onreadFor(fn: BytesHandler): net.OnReadOpts | undefined {
  if (forced) return undefined;
  const r = new Reader(fn);
  return { buffer: r.gen, callback: r.cb as (n: number, buf: Uint8Array) => boolean };
}

interface OnreadSymbols {
  buffer: symbol;
  callback: symbol;
  gen: symbol;
}

/** The symbols `new net.Socket({ onread })` stores its buffer, callback and generator under. */
const symbols: OnreadSymbols | null = (() => {
  if (forced) return null;
  try {
    const onread = { buffer: () => Buffer.alloc(1), callback: () => true };
    const probe = new net.Socket({ onread } as net.SocketConstructorOpts);
    const own = Object.getOwnPropertySymbols(probe);
    probe.destroy();
    const buffer = own.find((s) => s.description === 'kBuffer');
    const callback = own.find((s) => s.description === 'kBufferCb');
    const gen = own.find((s) => s.description === 'kBufferGen');
    return buffer && callback && gen ? { buffer, callback, gen } : null;
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
  const r = new Reader(fn);
  const s = sock as unknown as Record<symbol, unknown>;
  s[symbols.buffer] = SHARED;
  s[symbols.callback] = r.cb;
  s[symbols.gen] = r.gen;
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
