// `herd config`: load, validate and print the normalized project (like `docker compose config`).
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { checkServices, loaderFor } from '../up/options.ts';
import { runtimeKind } from '../../compose/runtime-kind.ts';
import { builtImageName } from '../../runtime/docker/create-options.ts';
import { serviceHash } from '../../engine/service-hash.ts';
import { HerdError } from '../../util/errors.ts';
import type { Project } from '../../compose/model.ts';
import type { ProjectFlags } from '../../daemon/locate.ts';

interface ConfigOptions {
  services?: boolean;
  quiet?: boolean;
  format: string;
  volumes?: boolean;
  profiles?: boolean;
  images?: boolean;
  hash?: string;
}

export function registerConfig(program: Command): void {
  program
    .command('config')
    .description('validate the compose file(s) and print the normalized project')
    .option('--services', 'print the service names, one per line')
    .option('-q, --quiet', 'only validate; print nothing but problems')
    .option('--format <format>', 'yaml or json', 'yaml')
    .option('--volumes', 'print the top-level volume names, one per line')
    .option('--profiles', 'print every profile the services name, one per line')
    .option('--images', "print each service's image, one per line")
    .option('--hash <services>', 'print "<service> <hash>" of these services (comma list, or "*")')
    .argument('[services...]', 'limit to these services (and their dependencies)')
    .addHelpText(
      'after',
      `
Every problem in the file(s) is reported at once, as file:line:col: key.path: what was expected.

Examples:
  $ herd config                       # the normalized project as YAML
  $ herd config --services            # one service name per line
  $ herd config --format json | jq .services.web
  $ herd config --hash "*"            # the hash herd compares to tell a changed service
  $ herd -f compose.yaml -f prod.yaml config -q   # validate the merged files only`,
    )
    .action(async (services: string[], opts: ConfigOptions) => {
      if (opts.format !== 'yaml' && opts.format !== 'json')
        throw new HerdError(`--format ${opts.format}: expected yaml or json`, 'INVALID_ARGUMENT');
      const flags = program.opts<ProjectFlags>();
      // --profiles lists the profiles of every service, enabled or not.
      const project = await loaderFor(
        opts.profiles ? { ...flags, profile: ['*'] } : flags,
        services,
      )();
      for (const w of project.warnings) process.stderr.write(`herd: warning: ${w}\n`);
      if (opts.quiet) return;
      const selected = selectedServices(project, services);
      const lines = listing(project, selected, opts);
      if (lines) process.stdout.write(lines.map((l) => `${l}\n`).join(''));
      else if (opts.format === 'json')
        process.stdout.write(JSON.stringify(projectView(project, selected), null, 2) + '\n');
      else process.stdout.write(stringify(projectView(project, selected)));
    });
}

/** The services `only` names and what they depend on (all when none is named), sorted. */
function selectedServices(project: Project, only: string[]): string[] {
  return Object.keys(project.services)
    .filter((n) => only.length === 0 || only.includes(n) || isDependency(project, only, n))
    .sort();
}

/** What --services, --volumes, --profiles, --images or --hash print; undefined for none. */
function listing(project: Project, names: string[], opts: ConfigOptions): string[] | undefined {
  const services = names.map((n) => project.services[n]!);
  if (opts.services) return names;
  if (opts.volumes) return Object.keys(project.volumes);
  if (opts.profiles) return [...new Set(services.flatMap((s) => s.profiles))].sort();
  if (opts.images)
    return services
      .filter((s) => runtimeKind(s) === 'docker')
      .map((s) => `${s.name} ${builtImageName(project.name, s)}`);
  if (opts.hash === undefined) return undefined;
  const wanted = opts.hash === '*' ? names : opts.hash.split(',').map((s) => s.trim());
  checkServices(project, wanted);
  return wanted.map((n) => `${n} ${serviceHash(project.services[n]!)}`);
}

function projectView(project: Project, names: string[]): object {
  const { warnings: _warnings, services: _services, ...rest } = project;
  return { ...rest, services: Object.fromEntries(names.map((n) => [n, project.services[n]])) };
}

/** The project as YAML, services sorted by name; warnings are reported separately. */
export function renderProject(project: Project, only: string[] = []): string {
  return stringify(projectView(project, selectedServices(project, only)));
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
