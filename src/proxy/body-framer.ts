// Where a message body ends in a byte stream, by Content-Length or by chunked framing: the same
// rules for request bodies herd streams to a replica and for response bodies it streams back.
import { ChunkedScanner } from './http-parse.ts';

/** Reused for each message of a connection; the bytes are neither copied nor altered. */
export class BodyFramer {
  /** Bytes left of a Content-Length body; -1 while framing by chunks. */
  private left = 0;
  private scanner: ChunkedScanner | null = null;

  /** The next body has `n` bytes. */
  length(n: number): void {
    this.left = n;
  }

  /** The next body is chunked. */
  chunked(): void {
    this.left = -1;
    this.scanner ??= new ChunkedScanner();
    this.scanner.reset();
  }

  /** Reads d[start…] as body: the offset just past the body's end, or -1 when all of it is body
   * and more is to come. Throws on malformed chunked framing. */
  feed(d: Buffer, start: number): number {
    if (this.left === -1) return this.scanner!.feed(d, start);
    const n = d.length - start;
    if (n < this.left) {
      this.left -= n;
      return -1;
    }
    const end = start + this.left;
    this.left = 0;
    return end;
  }
}
