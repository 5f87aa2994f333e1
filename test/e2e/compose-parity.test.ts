// Compose loader rules and secrets from the `herd` command: a project named by COMPOSE_PROJECT_NAME
// in .env whose files come from COMPOSE_FILE in .env, one of them `include`-ing another, and a
// process service that reads its secret and config through <NAME>_FILE while it runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, waitFor } from '../helpers/e2e.ts';
import { tempDir } from '../helpers/tmp.ts';

test('up -d: .env names the project and its files, include joins, secrets reach the process', async () => {
  const root = tempDir('e2e-parity');
  const dir = join(root, 'parity');
  mkdirSync(join(dir, 'lib'), { recursive: true });
  writeFileSync(join(dir, '.env'), 'COMPOSE_PROJECT_NAME=parityp\nCOMPOSE_FILE=main.yaml\n');
  writeFileSync(join(dir, 'compose.yaml'), 'services:\n  decoy:\n    command: ["false"]\n');
  writeFileSync(
    join(dir, 'main.yaml'),
    [
      'include: [lib/secrets.yaml]',
      'services:',
      '  app:',
      '    command: ["sh", "-c", "cat $$TOKEN_FILE $$SETTINGS_FILE; echo; echo $$P; sleep 60"]',
      '    environment: {P: "${COMPOSE_PROJECT_NAME}"}',
      '    secrets: [token]',
      '    configs: [settings]',
      '',
    ].join('\n'),
  );
  // The included file's paths are relative to its own folder.
  writeFileSync(
    join(dir, 'lib', 'secrets.yaml'),
    'services: {}\nsecrets:\n  token: {file: ./token.txt}\nconfigs:\n  settings: {content: "a=1"}\n',
  );
  writeFileSync(join(dir, 'lib', 'token.txt'), 'tok-e2e\n');
  const b = sandbox(root, dir);
  try {
    assert.equal(b.ok(['config', '--services']), 'app\n');
    b.ok(['up', '-d']);
    const rows = b.ps();
    assert.deepEqual(
      rows.map((r) => r.Name),
      ['parityp-app-1'],
    );
    let logs = '';
    await waitFor(
      'the secret, the config and the project name in the output',
      () => {
        logs = b.herd(['logs', '--no-color']).stdout;
        return /parityp/.test(logs);
      },
      15_000,
    );
    assert.match(logs, /app-1 +\| tok-e2e\n.*app-1 +\| a=1\n.*app-1 +\| parityp\n/s);
    // The files live under the state dir while the replica runs.
    assert.equal(readdirSync(join(b.stateDir, 'files')).length, 1);
  } finally {
    b.cleanup();
  }
});
