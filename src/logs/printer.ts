// Foreground log output for `herd up`: every line prefixed `web-1  | ` (padded to the longest
// name, like docker compose) in a colour that stays the same for a replica across runs, plus
// herd's own lines: notices, health changes and the exit of a replica stopped on purpose.
import type { EngineEvent, ReplicaInfo } from '../engine/events.ts';

const PALETTE = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94]; // cyan, yellow, green, magenta, blue, bright…

export interface PrinterOptions {
  color: boolean;
  write: (text: string) => void;
  /** Names known up front (`web-1`, …) so the columns line up from the first line. */
  names?: string[];
}

/** Colour off when asked, when NO_COLOR is set, or when output is not a terminal. */
export function shouldColor(
  flag: boolean,
  isTTY: boolean | undefined,
  env: Record<string, string | undefined>,
): boolean {
  return flag && !!isTTY && !(env.NO_COLOR !== undefined && env.NO_COLOR !== '');
}

function colorFor(name: string): number {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length] as number;
}

export class LogPrinter {
  private width: number;
  /** Last state and health seen per replica name, to print changes once. */
  private readonly seen = new Map<string, Pick<ReplicaInfo, 'state' | 'health'>>();

  constructor(private readonly opts: PrinterOptions) {
    this.width = Math.max(0, ...(opts.names ?? []).map((n) => n.length));
  }

  handle(e: EngineEvent): void {
    if (e.type === 'output') {
      this.line(
        replicaLabel(e.service, e.name),
        `${this.prefix(replicaLabel(e.service, e.name))}${e.line}`,
      );
    } else if (e.type === 'notice') {
      const label = e.name && e.service ? replicaLabel(e.service, e.name) : 'herd';
      this.line(label, e.message);
    } else if (e.type === 'scaled') {
      this.line('herd', `${e.service} scaled from ${e.from} to ${e.to}`);
    } else if (e.type === 'replica') {
      this.replica(e.replica);
    }
  }

  /** `web-2 is healthy`, `web-2 is unhealthy: <probe output>`, and `web-1 exited with code 0`
   * after a stop (exits the engine did not ask for already come as notices). */
  private replica(r: ReplicaInfo): void {
    const before = this.seen.get(r.name);
    if (r.state === 'removed') this.seen.delete(r.name);
    else this.seen.set(r.name, { state: r.state, health: r.health });
    const label = replicaLabel(r.service, r.name);
    if (before && r.state === 'running' && r.health !== before.health) {
      if (r.health === 'healthy') this.line(label, `${label} is healthy`);
      if (r.health === 'unhealthy') {
        const why = r.healthOutput ? `: ${r.healthOutput.split('\n').join(' ')}` : '';
        this.line(label, `${label} is unhealthy${why}`);
      }
    }
    const stopped = ['exited', 'removed', 'waiting'].includes(r.state);
    if (before?.state === 'stopping' && stopped && r.lastExit && !r.lastExit.startError) {
      this.line(label, `${label} exited with code ${r.lastExit.exitCode}`);
    }
  }

  /** Lines herd itself prints (shutting down, …). */
  say(message: string): void {
    this.opts.write(`${message}\n`);
  }

  private prefix(label: string): string {
    this.width = Math.max(this.width, label.length);
    return `${label.padEnd(this.width)}  | `;
  }

  private line(label: string, text: string): void {
    const out = this.opts.color ? `\x1b[${colorFor(label)}m${colorPrefix(text, label)}` : text;
    this.opts.write(`${out}\n`);
  }
}

/** Colours only the prefix of an output line, the whole line for notices. */
function colorPrefix(text: string, label: string): string {
  const bar = text.indexOf('| ');
  if (text.startsWith(label) && bar > 0)
    return `${text.slice(0, bar + 1)}\x1b[0m${text.slice(bar + 1)}`;
  return `${text}\x1b[0m`;
}

/** `<project>-web-2` → `web-2` (the project prefix is the same on every line). */
export function replicaLabel(service: string, name: string): string {
  const i = name.lastIndexOf(`-${service}-`);
  return i >= 0 ? name.slice(i + 1) : name;
}
