// A replica's output lines on their way to whoever listens: the engine subscribes right after the
// start (or the adoption), so the first lines are kept until then (bounded).
import type { OutputStream } from '../types.ts';

/** Lines kept until the first listener. */
const BUFFERED_LINES = 1000;

export type OutputListener = (stream: OutputStream, line: string) => void;

export class OutputRelay {
  private listeners: OutputListener[] = [];
  private buffered: [OutputStream, string][] = [];

  readonly emit = (stream: OutputStream, line: string): void => {
    if (this.listeners.length === 0) {
      if (this.buffered.length < BUFFERED_LINES) this.buffered.push([stream, line]);
      return;
    }
    for (const l of this.listeners) l(stream, line);
  };

  listen(listener: OutputListener): void {
    this.listeners.push(listener);
    const pending = this.buffered;
    this.buffered = [];
    for (const [s, line] of pending) listener(s, line);
  }
}
