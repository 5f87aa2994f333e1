// `herd port web 5000`: the host address that reaches a service's private port.
import type { Command } from 'commander';
import type { PortResponse } from '../../daemon/api-types.ts';
import { locateDaemon } from '../../daemon/locate.ts';
import { HerdError } from '../../util/errors.ts';

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
          throw new HerdError(`port ${port}: expected a port number between 1 and 65535`);
        if (!/^\d+$/.test(opts.index) || Number(opts.index) < 1)
          throw new HerdError(`--index ${opts.index}: expected a replica number ≥ 1`);
        if (opts.protocol !== 'tcp' && opts.protocol !== 'udp')
          throw new HerdError(`--protocol ${opts.protocol}: expected tcp or udp`);
        const { client } = await locateDaemon(cmd);
        const q = new URLSearchParams({
          service,
          port,
          index: opts.index,
          protocol: opts.protocol,
        });
        const r = await client.get<PortResponse>(`/v1/port?${q}`);
        process.stdout.write(r.address + '\n');
      },
    );
}
