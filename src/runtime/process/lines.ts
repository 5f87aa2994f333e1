// Splits a byte stream into lines; the unterminated tail is kept until more data or flush().

export class LineSplitter {
  private tail = '';
  private readonly decoder = new TextDecoder();

  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: Buffer): void {
    const text = this.tail + this.decoder.decode(chunk, { stream: true });
    const parts = text.split('\n');
    this.tail = parts.pop() ?? '';
    for (const p of parts) this.emit(p.endsWith('\r') ? p.slice(0, -1) : p);
  }

  /** Emits the partial last line, if any (at exit). */
  flush(): void {
    const rest = this.tail + this.decoder.decode();
    this.tail = '';
    if (rest !== '') this.emit(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
  }
}
