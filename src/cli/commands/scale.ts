// `herd scale web=3 worker=0`: change how many replicas run, live.
import type { Command } from 'commander';
import type { ScaleResponse } from '../../daemon/api-types.ts';
import { locateDaemon } from '../../daemon/locate.ts';
import { HerdError } from '../../util/errors.ts';

/** `web=3` → { web: 3 }; every malformed item is reported together. */
export function parseScaleArgs(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  const problems: string[] = [];
  for (const item of items) {
    const m = /^([^=]+)=(.*)$/.exec(item);
    if (!m) {
      problems.push(`${item}: expected SERVICE=N, e.g. web=3`);
      continue;
    }
    const [, service = '', n = ''] = m;
    if (!/^\d+$/.test(n)) problems.push(`${item}: "${n}" is not a whole number ≥ 0`);
    else out[service] = Number(n);
  }
  if (problems.length) throw new HerdError(`scale: ${problems.join('; ')}`, 'INVALID_ARGUMENT');
  return out;
}

export function registerScale(program: Command): void {
  program
    .command('scale')
    .description('set the number of replicas of services (takes effect at once)')
    .argument('<service=replicas...>', 'one or more SERVICE=N')
    .addHelpText(
      'after',
      `
Scaling up starts replicas that join the load balancer once ready; scaling down drains the
highest-numbered replicas first. The new count is kept until the next \`herd up\`.

Examples:
  $ herd scale web=3
  $ herd scale web=5 worker=0`,
    )
    .action(async (items: string[], _opts: unknown, cmd: Command) => {
      const wanted = parseScaleArgs(items);
      const { client } = await locateDaemon(cmd);
      const r = await client.post<ScaleResponse>('/v1/scale', wanted);
      for (const s of r.scaled) {
        const auto = s.autoscale
          ? ` (autoscaled: the autoscaler stays in charge and moves it by load, between ${s.autoscale.min} and ${s.autoscale.max})`
          : '';
        process.stdout.write(`${s.service}: ${s.from} -> ${s.to}${auto}\n`);
      }
    });
}
