// Secrets and configs for process replicas, from a compose file through the runtimes the daemon
// uses: each start gets its own files under the state dir, `<NAME>_FILE` variables point at them,
// a variable holding a container path of one points at its file instead, secrets are 0400, and
// the files go when the replica exits. `networks` on a process service is one warning.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadProject } from '../../src/compose/load.ts';
import { createRuntimes } from '../../src/runtime/choose.ts';
import { planReplica } from '../../src/runtime/env.ts';
import type { OutputStream } from '../../src/runtime/types.ts';
import { tempDir } from '../helpers/tmp.ts';

describe('secrets and configs for processes', () => {
  it('are files under the state dir named by <NAME>_FILE, removed at exit', async () => {
    const dir = tempDir('psec');
    const state = tempDir('psec-state');
    writeFileSync(join(dir, 'token.txt'), 'tok-1\n');
    writeFileSync(
      join(dir, 'compose.yaml'),
      [
        'services:',
        '  app:',
        '    command:',
        '      - sh',
        '      - -c',
        '      - >-',
        '        cat "$$TOKEN_FILE" "$$KEY_FILE" "$$SETTINGS_FILE" "$$POSTGRES_PASSWORD_FILE" &&',
        '        stat -c "%a" "$$TOKEN_FILE" "$$SETTINGS_FILE" &&',
        '        echo "$$POSTGRES_PASSWORD_FILE" | grep -q "^$$TOKEN_FILE$$" && echo same-file',
        '    environment:',
        '      POSTGRES_PASSWORD_FILE: /run/secrets/token',
        '    secrets: [token, key]',
        '    configs: [settings]',
        '    networks: [back]',
        'secrets:',
        '  token: {file: ./token.txt}',
        '  key: {environment: KEY}',
        'configs:',
        '  settings: {content: "a=1"}',
        'networks:',
        '  back:',
        '',
      ].join('\n'),
    );
    const project = await loadProject({ cwd: dir, env: { KEY: 'k-2' } });
    assert.equal(project.warnings.length, 1);
    assert.match(
      project.warnings[0] ?? '',
      /`networks` is not honoured by the process runtime \(service app\)/,
    );

    const runtimes = await createRuntimes(project, { filesDir: state });
    const service = project.services.app!;
    const { spec } = await planReplica(project, service, 1);
    const handle = await runtimes.forService(service).start(spec);
    const lines: string[] = [];
    handle.onOutput((s: OutputStream, l: string) =>
      lines.push(`${s === 'stderr' ? '! ' : ''}${l}`),
    );
    const exit = await handle.exited;
    assert.equal(exit.exitCode, 0, lines.join('\n'));
    assert.deepEqual(lines, ['tok-1', 'k-2a=1tok-1', '400', '444', 'same-file']);
    // The replica's folder goes once it has exited.
    for (let i = 0; i < 50 && readdirSync(state).length > 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(readdirSync(state), []);
    assert.ok(existsSync(state));
    await runtimes.close();
  });
});
