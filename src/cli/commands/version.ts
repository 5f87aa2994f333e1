// `herd version`: the version of herd, as `docker compose version` prints its own.
import type { Command } from 'commander';
import { HerdError } from '../../util/errors.ts';
import { herdVersion, printVersionLine } from '../version.ts';

interface VersionOptions {
  short?: boolean;
  format: string;
}

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('show the herd version')
    .option('--short', 'print only the version number')
    .option('-f, --format <format>', 'pretty or json', 'pretty')
    .addHelpText(
      'after',
      `
Examples:
  $ herd version                  # herd version 0.1.0
  $ herd version --short          # 0.1.0
  $ herd version --format json    # {"version":"0.1.0"}`,
    )
    .action((opts: VersionOptions) => {
      if (opts.format !== 'pretty' && opts.format !== 'json')
        throw new HerdError(`--format ${opts.format}: expected pretty or json`, 'INVALID_ARGUMENT');
      if (opts.format === 'json')
        process.stdout.write(`${JSON.stringify({ version: herdVersion() })}\n`);
      else if (opts.short) process.stdout.write(`${herdVersion()}\n`);
      else printVersionLine();
    });
}
