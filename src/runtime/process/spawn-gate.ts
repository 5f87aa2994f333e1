// Starting a replica inside its cgroup with no moment outside it: the child is /bin/sh running a
// fixed script that waits on fd 3 until herd has written the child's pid into the cgroup, then
// execs the replica's argv, passed as the script's arguments (never joined into a command string).
// The pid stays the same across exec, so the replica leads its process group as before.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { Writable } from 'node:stream';

/** Runs the argv only after the word "go" arrived; herd dying (EOF) or refusing ends it here. */
const GATE_SCRIPT = 'read -r go <&3 && [ "$go" = go ] || exit 125; exec 3<&-; exec "$@"';
/** `$0` of the gate: what the shell's own messages (e.g. "exec: x: not found") are signed with. */
const GATE_NAME = 'herd-start';

/** Spawns `argv` behind the gate: no stdin, stdout and stderr piped, fd 3 the gate. */
export function spawnGated(argv: string[], options: Omit<SpawnOptions, 'stdio'>): ChildProcess {
  const child = spawn('/bin/sh', ['-c', GATE_SCRIPT, GATE_NAME, ...argv], {
    ...options,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  // The gate is a socket pair: a child that dies (or closes fd 3) resets it, which is no error.
  gateOf(child)?.on('error', () => undefined);
  return child;
}

function gateOf(child: ChildProcess): Writable | undefined {
  return (child.stdio[3] ?? undefined) as Writable | undefined;
}

/** Lets the gated child exec its argv. */
export function openGate(child: ChildProcess): void {
  gateOf(child)?.end('go\n');
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
