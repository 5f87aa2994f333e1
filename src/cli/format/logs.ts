// Lines of `herd logs`: "web-1  | text", padded and coloured per replica as Compose does, and
// as foreground `herd up` prints them (src/logs/printer.ts).
import { replicaLabel } from '../../logs/printer.ts';
import type { LogEntry } from '../../logs/record.ts';

const COLORS = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94]; // cyan, yellow, green, magenta, blue, bright…

export interface LogLineOptions {
  prefix: boolean;
  timestamps: boolean;
  color: boolean;
  /** Width the label is padded to (the longest logLabel shown). */
  width: number;
}

/** `web-1` for `<project>-web-1`: the prefix of a replica's lines. */
export function logLabel(e: { service: string; name: string }): string {
  return replicaLabel(e.service, e.name);
}

/** A stable colour per replica name. */
export function colorFor(name: string): number {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return COLORS[h % COLORS.length]!;
}

export function formatLogLine(e: LogEntry, o: LogLineOptions): string {
  let prefix = '';
  if (o.prefix) {
    const name = logLabel(e);
    const label = `${name.padEnd(o.width)}  |`;
    prefix = (o.color ? `\x1b[${colorFor(name)}m${label}\x1b[0m` : label) + ' ';
  }
  const time = o.timestamps ? new Date(e.t).toISOString() + ' ' : '';
  return `${prefix}${time}${e.line}\n`;
}

/** `--since` as Docker takes it: RFC 3339 / ISO date, Unix seconds, or a relative "42m", "2h30m". */
export function parseSince(value: string, now: number): number | undefined {
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const rel = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(value);
  if (rel && value !== '') {
    const [, h, m, s, ms] = rel.map((x) => Number(x ?? 0));
    return now - ((h! * 60 + m!) * 60 + s!) * 1000 - ms!;
  }
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}
