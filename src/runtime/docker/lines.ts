// Turns a byte stream into complete lines (the last unterminated line is flushed at the end).
// The same splitter as for processes, so container output is capped per line the same way.
import { LineSplitter as Splitter } from '../process/lines.ts';

export class LineSplitter extends Splitter {
  write(chunk: Buffer | string): void {
    this.push(chunk);
  }

  end(): void {
    this.flush();
  }
}
