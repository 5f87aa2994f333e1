// Running out of file descriptors gracefully. At the limit, accept() fails with EMFILE and
// libuv quietly accepts and closes (resets) whatever waits in the backlog: clients see resets
// and nobody is told. So herd keeps a reserve below the limit instead: while its sockets come
// within RESERVE descriptors of RLIMIT_NOFILE, a new client connection is still accepted (the
// reserve has room for it), answered 503 at once and closed, and the process says so once,
// with the limit. As soon as connections close, it serves again.
import { readFileSync, readdirSync } from 'node:fs';

/** Descriptors kept free: room to accept and answer while at the limit, and for the rest of
 * the process (log files, pipes) between two counts. */
const RESERVE = 32;
/** How often, at most, the real count is taken while near the limit. */
const RECOUNT_MS = 200;
/** How often the count is taken otherwise (the rest of the process opens files too). */
const RECOUNT_FAR_MS = 5000;

/** The soft RLIMIT_NOFILE of this process (Infinity when unknown or unlimited). */
export function readFdLimit(): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    return m ? Number(m[1]) : Infinity;
  } catch {
    return Infinity;
  }
}

function countOpenFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

class FdReserve {
  limit = readFdLimit();
  /** Proxy sockets open now (clients and replica connections). */
  open = 0;
  /** Other descriptors of the process at the last count. */
  private others = 0;
  private countedAt = 0;
  /** A shortage was reported and has not ended yet. */
  private short = false;
  warn: (message: string) => void = (m) => process.emitWarning(m);

  /** Whether a new client connection must be turned away to keep the reserve. */
  exhausted(): boolean {
    // Two descriptors per client: its own and the one to a replica. Far from the limit, the
    // process's other descriptors are recounted now and then; near it, often.
    const near = this.open + this.others + 2 + RESERVE * 2 > this.limit;
    const now = Date.now();
    if (now - this.countedAt >= (near ? RECOUNT_MS : RECOUNT_FAR_MS)) {
      this.countedAt = now;
      this.others = Math.max(0, countOpenFds() - this.open);
    }
    if (this.open + this.others + 2 + RESERVE <= this.limit) return this.ended();
    this.shortage();
    return true;
  }

  /** A connection to a replica failed for lack of descriptors (EMFILE/ENFILE). */
  shortage(): void {
    if (this.short) return;
    this.short = true;
    this.warn(
      `herd proxy: out of file descriptors (limit ${this.limit}, ${this.open} proxy sockets open): ` +
        'answering new connections 503 until some close; raise the limit (ulimit -n) for more',
    );
  }

  private ended(): false {
    if (this.short && this.open + this.others + 2 + RESERVE * 2 <= this.limit) {
      this.short = false;
      this.warn(`herd proxy: file descriptors available again (limit ${this.limit})`);
    }
    return false;
  }
}

/** One per process: the limit and the descriptors are the process's. */
export const fdReserve = new FdReserve();

/** Counts `sock` among the proxy's open sockets until it closes. */
export function countSocket(sock: { once(ev: 'close', fn: () => void): unknown }): void {
  fdReserve.open++;
  sock.once('close', socketClosed);
}

function socketClosed(): void {
  fdReserve.open--;
}

/** Whether a socket error means the process ran out of descriptors. */
export function isFdShortage(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}
