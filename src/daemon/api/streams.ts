// The streaming routes: stored and live replica output (`logs`) and engine events (`events`), as
// NDJSON that stays open until the client goes or the server closes.
import type { ServerResponse } from 'node:http';
import type { EngineEvent } from '../../engine/events.ts';
import type { LogQuery } from '../../logs/record.ts';
import type { ApiContext } from './context.ts';
import { parseNonNegative } from './http.ts';

const NDJSON = { 'content-type': 'application/x-ndjson' };

export class StreamRoutes {
  constructor(private readonly ctx: ApiContext) {}

  logs(url: URL, res: ServerResponse): void {
    const p = url.searchParams;
    const query = this.logQuery(p);
    res.writeHead(200, NDJSON);
    const { logs, logPollMs } = this.ctx.opts;
    if (p.get('follow') !== '1' && p.get('follow') !== 'true') {
      for (const e of logs.read(query)) res.write(JSON.stringify(e) + '\n');
      res.end();
      return;
    }
    this.ctx.streams.add(res);
    const follower = logs.follow(query, (e) => res.write(JSON.stringify(e) + '\n'), logPollMs);
    res.on('close', () => {
      follower.close();
      this.ctx.streams.delete(res);
    });
  }

  events(res: ServerResponse): void {
    res.writeHead(200, NDJSON);
    res.flushHeaders();
    this.ctx.streams.add(res);
    const listener = (e: EngineEvent) => {
      if (e.type !== 'output') res.write(JSON.stringify(e) + '\n');
    };
    this.ctx.engine.on('event', listener);
    this.ctx.opts.warnings?.on(listener);
    res.on('close', () => {
      this.ctx.engine.off('event', listener);
      this.ctx.opts.warnings?.off(listener);
      this.ctx.streams.delete(res);
    });
  }

  private logQuery(p: URLSearchParams): LogQuery {
    const services = this.ctx.services(
      p.get('services') ? p.get('services')!.split(',') : undefined,
    );
    const tail = p.get('tail');
    const since = p.get('since');
    return {
      services,
      tail: tail === null || tail === 'all' ? undefined : parseNonNegative(tail, 'tail'),
      since: since === null ? undefined : parseNonNegative(since, 'since'),
    };
  }
}
