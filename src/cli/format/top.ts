// `herd top` text. A frame is a summary table with each replica's CPU % and memory (like
// `docker stats`), then one block per replica listing its processes (like `docker compose top`).
import type { TopReplica } from '../../daemon/api-types.ts';
import { renderTable } from './table.ts';
import { formatBytes, formatPercent } from './units.ts';

/** CPU seconds as [[hh:]mm:]ss like ps(1)'s TIME: 3725 → "01:02:05". */
export function cpuTime(seconds: number): string {
  const s = Math.floor(seconds);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
}

/** One row per replica: CPU % and memory of its whole process group, and how many processes
 * (`top`'s summary; `stats` names the memory column and shows unknowns as Docker's do). */
export function topSummary(
  replicas: TopReplica[],
  { memHeader = 'MEM', unknown = '--' }: { memHeader?: string; unknown?: string } = {},
): string {
  return renderTable(
    ['NAME', 'SERVICE', 'CPU %', memHeader, 'PIDS'],
    replicas.map((r) => [
      r.name,
      r.service,
      r.cpuPercent !== undefined ? formatPercent(r.cpuPercent) : unknown,
      r.memBytes !== undefined ? formatBytes(r.memBytes) : unknown,
      String(r.processes.length),
    ]),
  );
}

/** The processes of each replica, one block per replica headed by its name. */
export function topText(replicas: TopReplica[]): string {
  return replicas
    .map(
      (r) =>
        `${r.name}\n` +
        renderTable(
          ['UID', 'PID', 'PPID', 'STAT', 'RSS', 'TIME', 'CMD'],
          r.processes.map((p) => [
            String(p.uid),
            String(p.pid),
            String(p.ppid),
            p.state,
            formatBytes(p.rssBytes),
            cpuTime(p.cpuSeconds),
            p.command,
          ]),
        ),
    )
    .join('\n');
}

/** One whole frame: the summary, a blank line, the process blocks. */
export function topFrame(replicas: TopReplica[]): string {
  const blocks = topText(replicas);
  return topSummary(replicas) + (blocks ? '\n' + blocks : '');
}

/** Cuts every line to `columns` characters, so a long command line does not wrap and push the
 * frame off a terminal. */
export function fitWidth(text: string, columns: number): string {
  if (!(columns > 0)) return text;
  return text
    .split('\n')
    .map((l) => (l.length > columns ? l.slice(0, columns) : l))
    .join('\n');
}
