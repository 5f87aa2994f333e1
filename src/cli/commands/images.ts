// `herd build`, `herd pull` and `herd images`: the images of the project's Docker services, as
// `docker compose build/pull/images` handle them, straight through the Docker engine (no daemon
// needed). Process services have no image and are left out.
import type { Command } from 'commander';
import type { Project, Service } from '../../compose/model.ts';
import { runtimeKind } from '../../compose/runtime-kind.ts';
import type { ProjectFlags } from '../../daemon/locate.ts';
import { buildImage, pullImage } from '../../runtime/docker/build.ts';
import { connectDocker } from '../../runtime/docker/connect.ts';
import { builtImageName } from '../../runtime/docker/create-options.ts';
import { HERD_PROJECT, HERD_SERVICE } from '../../runtime/docker/labels.ts';
import { HerdError } from '../../util/errors.ts';
import { renderTable } from '../format/table.ts';
import { formatBytes } from '../format/units.ts';
import { checkServices, loaderFor } from '../up/options.ts';

async function dockerServices(
  program: Command,
  names: string[],
): Promise<{ project: Project; services: Service[] }> {
  const project = await loaderFor(program.opts<ProjectFlags>(), names)();
  checkServices(project, names);
  const services = Object.values(project.services).filter(
    (s) => (names.length === 0 || names.includes(s.name)) && runtimeKind(s) === 'docker',
  );
  return { project, services };
}

const say = (service: string) => (line: string) => process.stderr.write(`${service}: ${line}\n`);

export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('build the images of services with `build:` (Docker)')
    .argument('[services...]', 'services to build (default: all with build:)')
    .addHelpText(
      'after',
      `
Each image is tagged as up would use it: the service's image:, else <project>-<service>.

Examples:
  $ herd build
  $ herd build web && herd up -d`,
    )
    .action(async (names: string[]) => {
      const { project, services } = await dockerServices(program, names);
      const built = services.filter((s) => s.build !== undefined);
      if (built.length === 0) return;
      const { docker } = await connectDocker({
        neededBy: { service: built[0]!.name, what: 'build' },
      });
      for (const s of built) {
        const tag = builtImageName(project.name, s);
        await buildImage(docker, {
          context: s.build!.context,
          dockerfile: s.build!.dockerfile,
          args: s.build!.args,
          target: s.build!.target,
          tag,
          labels: { [HERD_PROJECT]: project.name, [HERD_SERVICE]: s.name },
          onProgress: say(s.name),
        });
        process.stdout.write(` ✔ ${s.name} built ${tag}\n`);
      }
    });
}

export function registerPull(program: Command): void {
  program
    .command('pull')
    .description('pull the images of services (Docker)')
    .argument('[services...]', 'services to pull (default: all with an image to pull)')
    .option('--ignore-buildable', 'skip services that have build:')
    .addHelpText(
      'after',
      `
Examples:
  $ herd pull
  $ herd pull --ignore-buildable db`,
    )
    .action(async (names: string[], opts: { ignoreBuildable?: boolean }) => {
      const { services } = await dockerServices(program, names);
      const pulled = services.filter(
        (s) => s.image !== undefined && !(opts.ignoreBuildable && s.build !== undefined),
      );
      if (pulled.length === 0) return;
      const { docker } = await connectDocker({
        neededBy: { service: pulled[0]!.name, what: 'pull' },
      });
      for (const s of pulled) {
        await pullImage(docker, s.image!, say(s.name));
        process.stdout.write(` ✔ ${s.name} pulled ${s.image}\n`);
      }
    });
}

export function registerImages(program: Command): void {
  program
    .command('images')
    .description("list the images the project's Docker services use")
    .argument('[services...]', 'only these services')
    .option('--format <format>', 'table or json', 'table')
    .option('-q, --quiet', 'only print image ids')
    .addHelpText(
      'after',
      `
Examples:
  $ herd images
  $ herd images --format json | jq -r '.[].ID'`,
    )
    .action(async (names: string[], opts: { format: string; quiet?: boolean }) => {
      if (opts.format !== 'table' && opts.format !== 'json')
        throw new HerdError(`--format ${opts.format}: expected table or json`, 'INVALID_ARGUMENT');
      const { project, services } = await dockerServices(program, names);
      const rows: { Service: string; Repository: string; Tag: string; ID: string; Size: number }[] =
        [];
      if (services.length > 0) {
        const { docker } = await connectDocker({
          neededBy: { service: services[0]!.name, what: 'images' },
        });
        for (const s of services) {
          const name = builtImageName(project.name, s);
          const info = await docker
            .getImage(name)
            .inspect()
            .catch(() => undefined);
          if (!info) continue;
          const [repo, tag = 'latest'] = splitTag(name);
          rows.push({ Service: s.name, Repository: repo, Tag: tag, ID: info.Id, Size: info.Size });
        }
      }
      if (opts.quiet) process.stdout.write(rows.map((r) => `${r.ID}\n`).join(''));
      else if (opts.format === 'json') process.stdout.write(JSON.stringify(rows) + '\n');
      else
        process.stdout.write(
          renderTable(
            ['SERVICE', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'],
            rows.map((r) => [
              r.Service,
              r.Repository,
              r.Tag,
              r.ID.replace(/^sha256:/, '').slice(0, 12),
              formatBytes(r.Size),
            ]),
          ),
        );
    });
}

/** `registry:5000/app:1.2` → ['registry:5000/app', '1.2']; no tag → latest. */
function splitTag(image: string): [string, string] {
  const at = image.lastIndexOf(':');
  if (at > image.lastIndexOf('/')) return [image.slice(0, at), image.slice(at + 1)];
  return [image, 'latest'];
}
