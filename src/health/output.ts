// Probe output is capped the way dockerd caps State.Health.Log entries: 4 KiB, then "...".

export const MAX_PROBE_OUTPUT_BYTES = 4096;

/** Collects chunks up to the cap; everything past it is dropped and marked with "...". */
export class LimitedOutput {
  private chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;

  write(chunk: Buffer): void {
    const room = MAX_PROBE_OUTPUT_BYTES - this.size;
    if (room > 0) {
      const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.chunks.push(kept);
      this.size += kept.length;
    }
    if (chunk.length > room) this.truncated = true;
  }

  toString(): string {
    const text = Buffer.concat(this.chunks).toString('utf8');
    return this.truncated ? `${text}...` : text;
  }
}

/** Caps an output string that did not come through LimitedOutput (e.g. an injected runner). */
export function truncateOutput(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= MAX_PROBE_OUTPUT_BYTES) return text;
  return `${bytes.subarray(0, MAX_PROBE_OUTPUT_BYTES).toString('utf8')}...`;
}

/** "30s", "1.5s", "250ms": how a timeout reads in a probe's output. */
export function formatDuration(ms: number): string {
  if (ms >= 1000) return `${Number((ms / 1000).toFixed(3))}s`;
  return `${ms}ms`;
}
