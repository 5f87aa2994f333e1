// Where a message body ends in a byte stream, by Content-Length or by chunked framing: the same
// rules for request bodies herd streams to a replica and for response bodies it streams back.
// The bytes are forwarded as they came, so herd and the replica must read the framing the same
// way: anything RFC 9112 §7.1 does not allow in a chunk line is an error here, never a guess.

const enum C {
  /** hex digits of the chunk size */
  Size,
  /** whitespace after the size: only more of it, `;` or the line end may follow */
  SizeBws,
  /** a chunk extension, up to the line end */
  Ext,
  /** a CR was read: its LF must follow */
  SizeLf,
  Data,
  /** the CRLF after a chunk's data */
  DataCr,
  DataLf,
  /** trailer lines, up to an empty one */
  Trailer,
  TrailerLf,
  Done,
}

const MAX_SIZE_LINE = 4096;
const MAX_TRAILER_LINE = 8192;

/**
 * Finds where a chunked body ends without altering it. feed() returns the offset just past the
 * body's end within `buf`, or -1 when it needs more; it throws on malformed framing.
 */
export class ChunkedScanner {
  private state = C.Size;
  private remaining = 0;
  private lineLen = 0;
  private sawSize = false;
  private lineHasData = false;

  reset(): void {
    this.state = C.Size;
    this.remaining = 0;
    this.lineLen = 0;
    this.sawSize = false;
    this.lineHasData = false;
  }

  feed(buf: Buffer, start: number): number {
    let i = start;
    const n = buf.length;
    while (i < n) {
      if (this.state === C.Data) {
        const take = Math.min(this.remaining, n - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = C.DataCr;
        continue;
      }
      if (this.state === C.Done) return i;
      const c = buf[i++]!;
      if (this.state <= C.SizeLf) this.sizeByte(c);
      else if (this.state === C.DataCr || this.state === C.DataLf) {
        if (c === 0x0a) this.state = C.Size;
        else if (c === 0x0d && this.state === C.DataCr) this.state = C.DataLf;
        else throw new Error('missing CRLF after chunk data');
      } else if (this.trailerByte(c)) return i;
    }
    return -1;
  }

  /** One byte of a chunk-size line: 1*HEXDIG [ BWS ";" ext ] CRLF (a bare LF is taken too). */
  private sizeByte(c: number): void {
    if (++this.lineLen > MAX_SIZE_LINE) throw new Error('chunk size line too long');
    if (c === 0x0a) {
      if (!this.sawSize) throw new Error('missing chunk size');
      this.lineLen = 0;
      this.sawSize = false;
      this.lineHasData = false;
      this.state = this.remaining === 0 ? C.Trailer : C.Data;
      return;
    }
    if (this.state === C.SizeLf) throw new Error('CR without LF in a chunk size line');
    if (c === 0x0d) {
      this.state = C.SizeLf;
      return;
    }
    if (this.state === C.Ext) {
      if (c < 0x20 && c !== 0x09) throw new Error('control character in a chunk extension');
      return;
    }
    if (c === 0x3b /* ; */) {
      if (!this.sawSize) throw new Error('missing chunk size');
      this.state = C.Ext;
      return;
    }
    if (c === 0x20 || c === 0x09) {
      if (!this.sawSize) throw new Error('invalid chunk size');
      this.state = C.SizeBws;
      return;
    }
    const d = hexVal(c);
    if (d < 0 || this.state === C.SizeBws) throw new Error('invalid chunk size');
    if (this.remaining > 0xfffffffffff) throw new Error('chunk too large');
    this.remaining = this.remaining * 16 + d;
    this.sawSize = true;
  }

  /** One byte of the trailer section; true once its empty last line has ended. */
  private trailerByte(c: number): boolean {
    if (++this.lineLen > MAX_TRAILER_LINE) throw new Error('trailer too long');
    if (c === 0x0a) {
      if (!this.lineHasData) {
        this.state = C.Done;
        return true;
      }
      this.lineHasData = false;
      this.lineLen = 0;
      this.state = C.Trailer;
      return false;
    }
    if (this.state === C.TrailerLf) throw new Error('CR without LF in a trailer');
    if (c === 0x0d) this.state = C.TrailerLf;
    else if (c < 0x20 && c !== 0x09) throw new Error('control character in a trailer');
    else this.lineHasData = true;
    return false;
  }
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

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
