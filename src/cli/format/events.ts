// `herd events` lines: "<time> <kind> <action> <name> (k=v, …)" like `docker compose events`.
import type { EngineEvent } from '../../engine/events.ts';

export function formatEvent(e: EngineEvent): string {
  const time = new Date(e.at).toISOString();
  switch (e.type) {
    case 'replica': {
      const r = e.replica;
      const attrs = [`service=${r.service}`, `state=${r.state}`];
      if (r.health !== 'none') attrs.push(`health=${r.health}`);
      if (r.pid !== undefined) attrs.push(`pid=${r.pid}`);
      if (r.lastExit && (r.state === 'exited' || r.state === 'backoff'))
        attrs.push(
          `exitCode=${r.lastExit.exitCode}`,
          ...(r.lastExit.oomKilled ? ['oomKilled=true'] : []),
        );
      if (r.reason) attrs.push(`reason=${r.reason}`);
      return `${time} replica ${r.state} ${r.name} (${attrs.join(', ')})\n`;
    }
    case 'ready':
      return `${time} replica ready ${e.replica.name} (service=${e.replica.service})\n`;
    case 'unready':
      return `${time} replica unready ${e.replica.name} (service=${e.replica.service}, reason=${e.reason})\n`;
    case 'scaled':
      if (e.autoscale)
        return `${time} service autoscale ${e.service} (from=${e.from}, to=${e.to}, metric=${e.autoscale.metric}, value=${e.autoscale.value}, target=${e.autoscale.target}, reason=${e.autoscale.reason})\n`;
      return `${time} service scale ${e.service} (from=${e.from}, to=${e.to})\n`;
    case 'update': {
      const u = e.update;
      const why = u.message ? `, reason=${u.message.split('\n')[0]}` : '';
      return `${time} service update ${u.service} (kind=${u.kind}, state=${u.state}${why})\n`;
    }
    case 'notice':
      return `${time} notice ${e.name ?? e.service ?? '-'} (${e.message})\n`;
    case 'output':
      return `${time} output ${e.name} (${e.stream}: ${e.line})\n`;
  }
}
