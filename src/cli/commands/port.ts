// `herd port web 5000`: the host address that reaches a service's private port.
import type { Command } from 'commander';
import type { PortResponse, PsResponse } from '../../daemon/api-types.ts';
import type { DaemonClient } from '../../daemon/client.ts';
import { locateDaemon } from '../../daemon/locate.ts';
import { HerdError, isHerdError } from '../../util/errors.ts';

export function registerPort(program: Command): void {
  program
    .command('port')
    .description('print the public address of a port of a service')
    .argument('<service>', 'service name')
    .argument('<private_port>', 'the port the service listens on (target port)')
    .option('--index <n>', 'replica number, when the service has several', '1')
    .option('--protocol <proto>', 'tcp or udp', 'tcp')
    .addHelpText(
      'after',
      `
A published port is answered with herd's balancer address (shared by all replicas); an
unpublished one with the chosen replica's own host port.

Examples:
  $ herd port web 5000
  $ herd port --index 2 api 8080`,
    )
    .action(
      async (
        service: string,
        port: string,
        opts: { index: string; protocol: string },
        cmd: Command,
      ) => {
        if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535)
          throw new HerdError(
            `port ${port}: expected a port number between 1 and 65535`,
            'INVALID_ARGUMENT',
          );
        const index = Number(opts.index);
        if (!/^\d+$/.test(opts.index) || !Number.isSafeInteger(index) || index < 1)
          throw new HerdError(
            `--index ${opts.index}: expected a replica number, a whole number ≥ 1 (1 is the first replica)`,
            'INVALID_ARGUMENT',
          );
        if (opts.protocol !== 'tcp' && opts.protocol !== 'udp')
          throw new HerdError(
            `--protocol ${opts.protocol}: expected tcp or udp`,
            'INVALID_ARGUMENT',
          );
        const { client } = await locateDaemon(cmd);
        const q = new URLSearchParams({
          service,
          port,
          index: opts.index,
          protocol: opts.protocol,
        });
        let r: PortResponse;
        try {
          r = await client.get<PortResponse>(`/v1/port?${q}`);
        } catch (err) {
          // The daemon only says "no host port": say which part of the question has no answer.
          if (!isHerdError(err, 'NO_HOST_PORT')) throw err;
          throw (await explainNoPort(client, service, Number(port), index, opts.protocol)) ?? err;
        }
        process.stdout.write(r.address + '\n');
      },
    );
}

/** Why `port` has no address: a replica number the service does not run, or a UDP port herd does
 * not map. Undefined when neither (the daemon's own message stands). */
async function explainNoPort(
  client: DaemonClient,
  service: string,
  port: number,
  index: number,
  protocol: string,
): Promise<HerdError | undefined> {
  const ps = await client.get<PsResponse>('/v1/ps').catch(() => undefined);
  const svc = ps?.services.find((s) => s.name === service);
  if (!ps || !svc) return undefined;
  const indexes = [
    ...new Set(
      ps.replicas.filter((r) => r.service === service && r.state !== 'removed').map((r) => r.index),
    ),
  ];
  if (index > 1 && !indexes.includes(index)) {
    const runs =
      indexes.length === 0
        ? 'runs no replica'
        : `runs ${indexes.length} replica${indexes.length === 1 ? '' : 's'} (--index ${indexes
            .sort((a, b) => a - b)
            .join(', ')})`;
    return new HerdError(
      `--index ${index}: service ${service} has no replica ${index}; it ${runs}`,
      'NO_HOST_PORT',
    );
  }
  if (protocol === 'udp') {
    const declared = svc.ports.some((p) => p.target === port && p.protocol === 'udp');
    const tcp =
      svc.ports.some((p) => p.target === port && p.protocol === 'tcp') ||
      svc.expose.some((x) => x.port === port && x.protocol === 'tcp');
    return new HerdError(
      `herd has no UDP mapping for ${service} ${port}/udp: ` +
        (declared
          ? 'the port is not published, and herd gives replicas host ports for TCP only'
          : `the service declares no ${port}/udp port`) +
        (tcp ? ` (${port}/tcp is mapped: \`herd port ${service} ${port}\`)` : ''),
      'NO_HOST_PORT',
    );
  }
  return undefined;
}
