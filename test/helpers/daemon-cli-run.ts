// Runs `herd <args>` with just the daemon-client verbs registered (until src/cli/main.ts registers
// them), reporting errors the way main.ts does. Usage: node --import tsx daemon-cli-run.ts ARGS…
import { Command } from 'commander';
import { reportError } from '../../src/cli/main.ts';
import { registerDown } from '../../src/cli/commands/down.ts';
import { registerEvents } from '../../src/cli/commands/events.ts';
import { registerKill } from '../../src/cli/commands/kill.ts';
import { registerLogs } from '../../src/cli/commands/logs.ts';
import { registerPort } from '../../src/cli/commands/port.ts';
import { registerPs } from '../../src/cli/commands/ps.ts';
import { registerRestart } from '../../src/cli/commands/restart.ts';
import { registerScale } from '../../src/cli/commands/scale.ts';
import { registerStart } from '../../src/cli/commands/start.ts';
import { registerStop } from '../../src/cli/commands/stop.ts';
import { registerTop } from '../../src/cli/commands/top.ts';

const program = new Command('herd').option('-p, --project-name <name>').exitOverride();
for (const register of [
  registerPs,
  registerScale,
  registerLogs,
  registerStop,
  registerStart,
  registerRestart,
  registerKill,
  registerDown,
  registerPort,
  registerTop,
  registerEvents,
])
  register(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = reportError(err);
}
