// A file the daemon keeps in step with what it holds in memory (state.json, definitions.json):
// the memory is what counts, so a write that fails (a full disk) is reported once — a warning for
// `ps`, a notice on `events` — and retried, 1 s then doubling up to 30 s, until it succeeds,
// which is announced too. Never throws.
import { describeWriteError, type DaemonWarnings } from './warnings.ts';

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

export interface RetriedWriteOptions {
  file: string;
  /** The warning's key (one per file). */
  key: string;
  /** What the file is, for the messages: `the state file`. */
  what: string;
  /** What the daemon does meanwhile, said after the failure. */
  meanwhile: string;
  warnings: DaemonWarnings;
  /** Writes the current content (atomically); throws when it could not. */
  write: () => void;
}

export class RetriedWrite {
  /** What went wrong with the last write, while it stays failed. */
  failure: string | undefined;
  private retry: NodeJS.Timeout | undefined;
  private retryMs = RETRY_MIN_MS;

  constructor(private readonly o: RetriedWriteOptions) {}

  /** Writes now; false (reported, retried later) when the write failed. */
  flush(): boolean {
    try {
      this.o.write();
    } catch (err) {
      this.failure = describeWriteError(err, this.o.file);
      this.o.warnings.set(
        this.o.key,
        `cannot write ${this.o.what}: ${this.failure}; ${this.o.meanwhile}`,
      );
      this.scheduleRetry();
      return false;
    }
    if (this.failure !== undefined) {
      this.failure = undefined;
      this.retryMs = RETRY_MIN_MS;
      clearTimeout(this.retry);
      this.retry = undefined;
      this.o.warnings.clear(this.o.key, `${this.o.what} ${this.o.file} is written again`);
    }
    return true;
  }

  /** Stops retrying (the daemon is closing). */
  close(): void {
    clearTimeout(this.retry);
    this.retry = undefined;
  }

  private scheduleRetry(): void {
    if (this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
      this.flush();
    }, this.retryMs);
    this.retry.unref();
  }
}
