// Starting a replica inside its cgroup with no moment outside it. The child is a small gate that
// waits on fd 3 until herd has written the child's pid into the cgroup, then execs the replica's
// argv (passed as arguments, never joined into a command string). The pid stays the same across
// exec, so the replica leads its process group as before.
//
// Two gates: perl, where the machine has it, gets the replica's environment over fd 3 and execs
// with exactly that environment; /bin/sh (everywhere) passes its own on, which a POSIX shell
// rewrites in places (it drops names that are not shell identifiers, and resets PWD, IFS, OPTIND
// and PPID). chooseGate() says which one can start a given environment faithfully.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { Writable } from 'node:stream';

export type GateKind = 'perl' | 'sh';

/** Reads the environment (NUL-terminated `K=V` entries, then the end mark) and execs. A stream
 * that ends without the mark (herd died or refused) never runs the argv. */
const PERL_GATE = String.raw`
open(my $gate, '<&=', 3) or exit 125;
binmode $gate;
local $/;
my $in = <$gate>;
exit 125 unless defined $in && $in =~ s/\0herd-go\n\z//;
close $gate;
%ENV = ();
for (split /\0/, $in) { my ($k, $v) = split /=/, $_, 2; $ENV{$k} = $v if defined $v; }
exec { $ARGV[0] } @ARGV;
print STDERR "herd-start: cannot run $ARGV[0]: $!\n";
exit($!{ENOENT} ? 127 : 126);
`;
const PERL_END = '\0herd-go\n';

/** Runs the argv only after the word "go" arrived; herd dying (EOF) or refusing ends it here. */
const SH_GATE = 'read -r go <&3 && [ "$go" = go ] || exit 125; exec 3<&-; exec "$@"';
/** `$0` of the sh gate: what the shell's own messages (e.g. "exec: x: not found") are signed with. */
const SH_NAME = 'herd-start';

/** Variables a POSIX shell drops or rewrites when it passes its environment on (PWD it sets to
 * the working directory, which is what it should say anyway). */
const SHELL_OWNED = new Set(['IFS', 'OPTIND', 'PPID']);

let machinePerl: string | null | undefined;

/** This machine's perl, or null (looked for once). */
export function findPerl(): string | null {
  if (machinePerl !== undefined) return machinePerl;
  machinePerl = null;
  for (const candidate of ['/usr/bin/perl', '/bin/perl']) {
    try {
      accessSync(candidate, constants.X_OK);
      machinePerl = candidate;
      break;
    } catch {
      // not here
    }
  }
  return machinePerl;
}

/** Which gate starts a replica, and with which perl (null: none, so /bin/sh). */
export interface Gate {
  kind: GateKind;
  perl: string | null;
}

/** The variables of `env` that /bin/sh would not pass on as they are. */
export function shellMangled(env: Record<string, string>): string[] {
  return Object.keys(env).filter((k) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || SHELL_OWNED.has(k));
}

/** The gate that can start a replica with `env` as it is, or undefined when none can (no perl,
 * and names /bin/sh would drop). */
export function chooseGate(env: Record<string, string>, perl: string | null): Gate | undefined {
  if (perl !== null) return { kind: 'perl', perl };
  return shellMangled(env).length === 0 ? { kind: 'sh', perl } : undefined;
}

/** A number: an open fd the child gets (a replica's capture file, output-files.ts). */
export type Std = 'ignore' | 'pipe' | 'inherit' | number;

/** Spawns `argv` behind the gate: by default no stdin, stdout and stderr piped (`herd exec` and
 * replicas that write to files give their own); fd 3 the gate. */
export function spawnGated(
  gate: Gate,
  argv: string[],
  options: Omit<SpawnOptions, 'stdio'> & { env: Record<string, string>; std?: [Std, Std, Std] },
): ChildProcess {
  const { std = ['ignore', 'pipe', 'pipe'], ...rest } = options;
  const stdio: SpawnOptions['stdio'] = [...std, 'pipe'];
  // What spawn itself refuses for an environment it is given (the perl gate's comes over fd 3).
  for (const [k, v] of Object.entries(rest.env))
    if (k.includes('\0') || v.includes('\0'))
      throw new TypeError(`environment variable ${JSON.stringify(k)} holds a NUL byte`);
  const child =
    gate.perl !== null
      ? // The environment comes over the gate: perl itself starts with none (no PERL5OPT or
        // locale of the replica's to act on).
        spawn(gate.perl, ['-e', PERL_GATE, '--', ...argv], {
          ...rest,
          env: {},
          stdio,
        })
      : spawn('/bin/sh', ['-c', SH_GATE, SH_NAME, ...argv], { ...rest, stdio });
  // The gate is a socket pair: a child that dies (or closes fd 3) resets it, which is no error.
  gateOf(child)?.on('error', () => undefined);
  return child;
}

function gateOf(child: ChildProcess): Writable | undefined {
  return (child.stdio[3] ?? undefined) as Writable | undefined;
}

/** Lets the gated child exec its argv (with `env`, for the perl gate). */
export function openGate(gate: Gate, child: ChildProcess, env: Record<string, string>): void {
  if (gate.kind === 'sh') {
    gateOf(child)?.end('go\n');
    return;
  }
  const entries = Object.entries(env).map(([k, v]) => `${k}=${v}\0`);
  gateOf(child)?.end(entries.join('') + PERL_END);
}

/** The child will not run its argv: it exits 125 (herd also kills it, to be sure). */
export function refuseGate(child: ChildProcess): void {
  gateOf(child)?.destroy();
  try {
    child.kill('SIGKILL');
  } catch {
    // already gone
  }
}
