// `herd config` from the binary (each run starts herd, a second or more: not a unit test).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { runEnv } from '../helpers/run-env.ts';
import { tempDir } from '../helpers/tmp.ts';

const run = promisify(execFile);
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const herd = path.join(root, 'bin', 'herd.js');
const fixtures = path.join(root, 'test', 'fixtures', 'compose');

async function herdConfig(
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [herd, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...runEnv() },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('herd config', () => {
  it('prints the normalized project as YAML, services sorted', async () => {
    const r = await herdConfig(['config'], path.join(fixtures, 'merge'));
    assert.equal(r.code, 0, r.stderr);
    const doc = parse(r.stdout) as {
      name: string;
      services: Record<string, { command?: string[] }>;
    };
    assert.equal(doc.name, 'merged');
    assert.deepEqual(Object.keys(doc.services), ['cache', 'db', 'web']);
    assert.deepEqual(doc.services.web?.command, ['npm', 'start']);
  });

  it('--services lists names; -q prints nothing; warnings go to stderr once', async () => {
    const dir = path.join(fixtures, 'warnings');
    const list = await herdConfig(['config', '--services'], dir);
    assert.equal(list.stdout, 'api\n');
    assert.equal(
      list.stderr,
      'herd: warning: service "api": herd does not honour `cap_add` (ignored)\n' +
        "herd: warning: `networks` is not honoured by the process runtime (service api): processes share the host's loopback and reach each other through herd's balancer; run a service in Docker to attach it to networks\n",
    );
    const quiet = await herdConfig(['config', '-q'], dir);
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stdout, '');
  });

  it('SERVICE: a missing env_file of another service does not fail it', async () => {
    const dir = tempDir('cfgsvc');
    writeFileSync(
      path.join(dir, 'compose.yaml'),
      'services:\n  web:\n    command: ["node", "a.js"]\n  other:\n    command: ["o"]\n    env_file: gone.env\n',
    );
    const web = await herdConfig(['config', 'web'], dir);
    assert.equal(web.code, 0, web.stderr);
    assert.deepEqual(Object.keys((parse(web.stdout) as { services: object }).services), ['web']);
    const all = await herdConfig(['config'], dir);
    assert.equal(all.code, 1);
    assert.match(all.stderr, /services\.other\.env_file: env file .*gone\.env not found/);
  });

  it('exits 1 with every problem listed', async () => {
    const r = await herdConfig(['config', '-q'], path.join(fixtures, 'errors'));
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^herd: 21 problems in the compose file\(s\):\n {2}compose\.yaml:4:5: services\.web\.helthcheck/,
    );
  });
});
