// `herd top` text: one block per replica, like `docker compose top`.
import type { TopResponse } from '../../daemon/api-types.ts';
import { renderTable } from './table.ts';
import { formatBytes } from './units.ts';

/** CPU seconds as [[hh:]mm:]ss like ps(1)'s TIME: 3725 → "01:02:05". */
export function cpuTime(seconds: number): string {
  const s = Math.floor(seconds);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
}

export function topText(replicas: TopResponse['replicas']): string {
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
