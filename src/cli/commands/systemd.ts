// `herd systemd`: a systemd user unit that starts the project at boot (`up -d --wait`) and stops it
// with the unit (`down`), as `pm2 startup` does for pm2. Printed, never installed: the user saves
// it and enables it. The command lines are written in systemd's own quoting, argument by argument
// (no shell is involved), with the absolute paths of node, herd and the compose files.
import path from 'node:path';
import type { Command } from 'commander';
import { loadProject } from '../../compose/load.ts';
import { HERD_BIN } from '../../daemon/detach.ts';
import { loadOptionsOf, type ProjectFlags } from '../../daemon/locate.ts';
import { HerdError } from '../../util/errors.ts';

interface SystemdOptions {
  name?: string;
}

/** Variables that decide where the stack's state is and what it runs, passed on when set. */
const PASSED_ENV = ['HERD_STATE_DIR', 'XDG_STATE_HOME', 'COMPOSE_PROFILES'];

export function registerSystemd(program: Command): void {
  program
    .command('systemd')
    .description('print a systemd user unit that starts the project at boot')
    .option('--name <unit>', 'the unit file name to suggest (default: herd-<project>.service)')
    .addHelpText(
      'after',
      `
The unit runs \`herd … up -d --wait\` when it starts and \`herd … down\` when it stops, with the
same compose files, project name, profiles and env files as this command, from the project folder.
Variables the compose file takes from your shell are not in it: put them in .env or an --env-file.

Examples:
  $ herd systemd > ~/.config/systemd/user/herd-shop.service
  $ systemctl --user daemon-reload && systemctl --user enable --now herd-shop.service
  $ loginctl enable-linger "$USER"     # start it at boot, before you log in
  $ herd -f compose.yaml -f prod.yaml --profile web systemd --name shop.service`,
    )
    .action(async (opts: SystemdOptions) => {
      const flags = program.opts<ProjectFlags>();
      const project = await loadProject(loadOptionsOf(flags));
      process.stdout.write(
        systemdUnit({
          project: project.name,
          workingDir: project.workingDir,
          args: projectArgs(flags, project.name, project.composeFiles),
          unitName: unitName(opts.name, project.name),
        }),
      );
    });
}

/** The arguments that select the project, with every path absolute (the unit runs elsewhere). */
export function projectArgs(flags: ProjectFlags, name: string, composeFiles: string[]): string[] {
  const cwd = process.cwd();
  const out: string[] = [];
  for (const f of composeFiles) out.push('-f', f);
  out.push('-p', name);
  if (flags.projectDirectory)
    out.push('--project-directory', path.resolve(cwd, flags.projectDirectory));
  for (const e of flags.envFile ?? []) out.push('--env-file', path.resolve(cwd, e));
  for (const p of flags.profile ?? []) out.push('--profile', p);
  return out;
}

function unitName(given: string | undefined, project: string): string {
  if (given === undefined) return `herd-${project}.service`;
  const name = given.endsWith('.service') ? given : `${given}.service`;
  if (!/^[A-Za-z0-9:_.\\@-]+\.service$/.test(name) || name.length > 255)
    throw new HerdError(
      `--name ${given}: a unit name is letters, digits and ":-_.\\@", e.g. --name herd-shop.service`,
      'INVALID_ARGUMENT',
    );
  return name;
}

export interface UnitSpec {
  project: string;
  workingDir: string;
  /** The global arguments that select the project (projectArgs). */
  args: string[];
  unitName: string;
  env?: Record<string, string | undefined>;
  node?: string;
  herd?: string;
}

/** The unit file's text. */
export function systemdUnit(spec: UnitSpec): string {
  const env = spec.env ?? process.env;
  const command = [spec.node ?? process.execPath, spec.herd ?? HERD_BIN, ...spec.args];
  const vars = PASSED_ENV.filter((k) => env[k]).map((k) => `${k}=${env[k]}`);
  // The unit's own PATH is minimal: the replicas' commands are looked up in the user's.
  if (env.PATH) vars.push(`PATH=${env.PATH}`);
  return [
    `# ${spec.unitName}: the herd stack ${spec.project}, started at boot.`,
    `# Save it as ~/.config/systemd/user/${spec.unitName}, then:`,
    `#   systemctl --user daemon-reload && systemctl --user enable --now ${spec.unitName}`,
    '#   loginctl enable-linger "$USER"   # so it starts at boot, not at your first login',
    '[Unit]',
    `Description=herd stack ${spec.project}`,
    'After=network-online.target',
    '',
    '[Service]',
    // `up -d` returns once the stack is up; its daemon and replicas keep running after it.
    'Type=oneshot',
    'RemainAfterExit=yes',
    `WorkingDirectory=${unitPath(spec.workingDir)}`,
    ...vars.map((v) => `Environment=${systemdWord(v, { env: true })}`),
    `ExecStart=${execLine([...command, 'up', '-d', '--wait'])}`,
    `ExecStop=${execLine([...command, 'down'])}`,
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}

/** A command line as ExecStart= reads it: each argument one word. */
export function execLine(argv: string[]): string {
  return argv.map((a) => systemdWord(a)).join(' ');
}

/** One word in systemd's syntax: bare when that is unambiguous, else double-quoted with C escapes.
 * `%` (specifiers) is always doubled; `$` (variable expansion) is doubled except in Environment=,
 * which does not expand variables. */
export function systemdWord(word: string, opts: { env?: boolean } = {}): string {
  refuseControl(word);
  let w = word.replace(/%/g, '%%');
  if (!opts.env) w = w.replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_/.,:=+@%$-]+$/.test(w)) return w;
  return `"${w.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A path for WorkingDirectory=, which systemd takes as is (no quotes) after specifiers. */
function unitPath(p: string): string {
  refuseControl(p);
  if (p.trim() !== p)
    throw new HerdError(
      `the project folder ${JSON.stringify(p)} starts or ends with a space, which a systemd unit cannot hold`,
      'INVALID_ARGUMENT',
    );
  return p.replace(/%/g, '%%');
}

function refuseControl(s: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(s))
    throw new HerdError(
      `${JSON.stringify(s)} holds a control character (a newline, a tab…), which a systemd unit ` +
        'line cannot hold; rename it',
      'INVALID_ARGUMENT',
    );
}
