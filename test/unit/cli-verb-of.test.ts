// main.ts loads only the module of the verb on the command line: which word is the verb.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verbOf } from '../../src/cli/main.ts';

test('the verb is the first word that is not a global option or its value', () => {
  assert.equal(verbOf(['ps']), 'ps');
  assert.equal(verbOf(['-f', 'a.yaml', '-f', 'b.yaml', 'up', '-d']), 'up');
  assert.equal(verbOf(['-p', 'demo', '--profile', 'x', 'exec', '-T', 'web', 'sh']), 'exec');
  assert.equal(verbOf(['--file=a.yaml', 'logs', '-f']), 'logs');
  assert.equal(verbOf(['--project-directory', 'ps', 'config']), 'config');
  assert.equal(verbOf(['--env-file', 'x.env', '--', 'run']), 'run');
  assert.equal(verbOf(['--version']), undefined);
  assert.equal(verbOf([]), undefined);
});
