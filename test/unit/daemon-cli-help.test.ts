import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { registerDown } from '../../src/cli/commands/down.ts';
import { registerEvents } from '../../src/cli/commands/events.ts';
import { registerKill } from '../../src/cli/commands/kill.ts';
import { registerLogs } from '../../src/cli/commands/logs.ts';
import { registerPort } from '../../src/cli/commands/port.ts';
import { registerPs } from '../../src/cli/commands/ps.ts';
import { registerRestart } from '../../src/cli/commands/restart.ts';
import { parseScaleArgs, registerScale } from '../../src/cli/commands/scale.ts';
import { registerStart } from '../../src/cli/commands/start.ts';
import { registerStop } from '../../src/cli/commands/stop.ts';
import { registerTop } from '../../src/cli/commands/top.ts';
import { normalizeSignal } from '../../src/daemon/api/services.ts';

const verbs = {
  ps: registerPs,
  scale: registerScale,
  logs: registerLogs,
  stop: registerStop,
  start: registerStart,
  restart: registerRestart,
  kill: registerKill,
  down: registerDown,
  port: registerPort,
  top: registerTop,
  events: registerEvents,
};

describe('daemon client verbs: help and argument checks', () => {
  for (const [verb, register] of Object.entries(verbs)) {
    it(`${verb} --help explains the verb with an example`, () => {
      let text = '';
      const program = new Command('herd')
        .exitOverride()
        .configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
      register(program);
      const cmd = program.commands.find((c) => c.name() === verb);
      assert.ok(cmd, `registers ${verb}`);
      cmd.outputHelp();
      assert.match(text, new RegExp(`^Usage: herd ${verb}`));
      assert.match(text, /Examples?:\n\s+\$ herd \w+/);
    });
  }

  it('parses SERVICE=N and reports every bad item', () => {
    assert.deepEqual(parseScaleArgs(['web=3', 'worker=0']), { web: 3, worker: 0 });
    assert.throws(
      () => parseScaleArgs(['web=3.5', 'db', 'x=']),
      /web=3\.5: "3\.5" is not a whole number ≥ 0; db: expected SERVICE=N, e.g\. web=3; x=: "" is not/,
    );
  });

  it('accepts signals as Docker does: names with or without SIG, any case, or numbers', () => {
    assert.equal(normalizeSignal('KILL'), 'SIGKILL');
    assert.equal(normalizeSignal('sighup'), 'SIGHUP');
    assert.equal(normalizeSignal('15'), 'SIGTERM');
    assert.equal(normalizeSignal('SIGNOPE'), undefined);
  });
});
