// `herd config`: load, validate and print the normalized project (like `docker compose config`).
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { loaderFor } from '../up/options.ts';
import type { Project } from '../../compose/model.ts';
import type { ProjectFlags } from '../../daemon/locate.ts';

interface ConfigOptions {
  services?: boolean;
  quiet?: boolean;
}

export function registerConfig(program: Command): void {
  program
    .command('config')
    .description('validate the compose file(s) and print the normalized project')
    .option('--services', 'print the service names, one per line')
    .option('-q, --quiet', 'only validate; print nothing but problems')
    .argument('[services...]', 'limit to these services (and their dependencies)')
    .addHelpText(
      'after',
      `
Every problem in the file(s) is reported at once, as file:line:col: key.path: what was expected.

Examples:
  $ herd config                       # the normalized project as YAML
  $ herd config --services            # one service name per line
  $ herd -f compose.yaml -f prod.yaml config -q   # validate the merged files only`,
    )
    .action(async (services: string[], opts: ConfigOptions) => {
      const project = await loaderFor(program.opts<ProjectFlags>(), services)();
      for (const w of project.warnings) process.stderr.write(`herd: warning: ${w}\n`);
      if (opts.quiet) return;
      if (opts.services) {
        process.stdout.write(
          Object.keys(project.services)
            .map((s) => `${s}\n`)
            .join(''),
        );
        return;
      }
      process.stdout.write(renderProject(project, services));
    });
}

/** The project as YAML, services sorted by name; warnings are reported separately. */
export function renderProject(project: Project, only: string[] = []): string {
  const names = Object.keys(project.services)
    .filter((n) => only.length === 0 || only.includes(n) || isDependency(project, only, n))
    .sort();
  const { warnings: _warnings, services: _services, ...rest } = project;
  return stringify({
    ...rest,
    services: Object.fromEntries(names.map((n) => [n, project.services[n]])),
  });
}

function isDependency(project: Project, roots: string[], name: string): boolean {
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const s = queue.pop() as string;
    for (const d of Object.keys(project.services[s]?.dependsOn ?? {})) {
      if (d === name) return true;
      if (!seen.has(d)) {
        seen.add(d);
        queue.push(d);
      }
    }
  }
  return false;
}
