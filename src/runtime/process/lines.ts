// Splits a byte stream into lines; the unterminated tail is kept until more data or flush().
// A line longer than MAX_LINE is cut into MAX_LINE pieces (as Docker's json-file driver does at
// 16 KiB): a replica printing without newlines must not grow the daemon without bound.

/** Longest line emitted, in UTF-16 code units. */
export const MAX_LINE = 16 * 1024;

export class LineSplitter {
  // The pending line as pieces, joined once when it ends: appending to one growing string (or
  // re-splitting it) per chunk would be quadratic in the line's length.
  private pieces: string[] = [];
  private size = 0;
  /** The last line was cut at the cap: a newline right after it ends that line, not a new one. */
  private justCut = false;
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly emit: (line: string) => void,
    private readonly maxLine = MAX_LINE,
  ) {}

  /** Length of the unterminated line held (always below the cap). */
  get pending(): number {
    return this.size;
  }

  push(chunk: Buffer | string): void {
    this.feed(typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true }));
  }

  /** Emits the partial last line, if any (at exit). */
  flush(): void {
    this.feed(this.decoder.decode());
    if (this.size > 0) this.take(true);
  }

  private feed(text: string): void {
    let start = 0;
    while (start < text.length) {
      const nl = text.indexOf('\n', start);
      const end = nl === -1 ? text.length : nl;
      while (this.size + (end - start) >= this.maxLine) {
        let cut = start + this.maxLine - this.size;
        // Never split a surrogate pair across two lines (unless the cap leaves no other way).
        const room = cut - 1 > start || this.size > 0;
        if (room && isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
        if (cut > start) this.pieces.push(text.slice(start, cut));
        this.take(false);
        start = cut;
      }
      if (end > start) {
        this.pieces.push(text.slice(start, end));
        this.size += end - start;
        this.justCut = false;
      }
      if (nl === -1) return;
      if (this.size > 0 || !this.justCut) this.take(true);
      this.justCut = false;
      start = nl + 1;
    }
  }

  /** Emits the pending line; `ended`: a real line end (or EOF), where a CR before it goes. */
  private take(ended: boolean): void {
    const line = this.pieces.join('');
    this.pieces = [];
    this.size = 0;
    this.justCut = !ended;
    this.emit(ended && line.endsWith('\r') ? line.slice(0, -1) : line);
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
