import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseDotenv } from '../../src/compose/dotenv.ts';
import { ComposeError } from '../../src/compose/errors.ts';
import { interpolate, InterpolationError } from '../../src/compose/interpolate.ts';
import { loadProject } from '../../src/compose/load.ts';
import { tempDir } from '../helpers/tmp.ts';

const vars: Record<string, string> = { SET: 'value', EMPTY: '', B: 'bee' };
const lookup = (n: string) => vars[n];
const run = (s: string, unset: string[] = []) =>
  interpolate(s, { lookup, onUnset: (n) => unset.push(n) });

async function project(files: Record<string, string>): Promise<string> {
  const dir = tempDir('interp');
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

describe('interpolate', () => {
  it('substitutes $VAR and ${VAR}', () => {
    assert.equal(run('a $SET b ${SET}c'), 'a value b valuec');
  });
  it('reports unset variables and yields the empty string', () => {
    const unset: string[] = [];
    assert.equal(run('x${NOPE}y$NOPE2', unset), 'xy');
    assert.deepEqual(unset, ['NOPE', 'NOPE2']);
  });
  it(':- uses the default when unset or empty, - only when unset', () => {
    assert.equal(run('${NOPE:-d}'), 'd');
    assert.equal(run('${EMPTY:-d}'), 'd');
    assert.equal(run('${EMPTY-d}'), '');
    assert.equal(run('${NOPE-d}'), 'd');
    assert.equal(run('${SET:-d}'), 'value');
  });
  it(':+ and + give the alternative when set', () => {
    assert.equal(run('${SET:+alt}'), 'alt');
    assert.equal(run('${EMPTY:+alt}'), '');
    assert.equal(run('${EMPTY+alt}'), 'alt');
    assert.equal(run('${NOPE+alt}'), '');
  });
  it(':? and ? fail with the variable name and message', () => {
    assert.throws(() => run('${NOPE:?needs a value}'), {
      message: 'required variable NOPE is missing a value: needs a value',
    });
    assert.throws(() => run('${EMPTY:?x}'), InterpolationError);
    assert.equal(run('${EMPTY?x}'), '');
    assert.throws(() => run('${NOPE?}'), { message: 'required variable NOPE is missing a value' });
  });
  it('nests inside defaults', () => {
    assert.equal(run('${A:-${B:-x}}'), 'bee');
    assert.equal(run('${A:-${C:-x}}'), 'x');
    assert.equal(run('${A:-pre-$B-post}'), 'pre-bee-post');
  });
  it('$$ is a literal dollar and is not re-substituted', () => {
    assert.equal(run('$$SET costs $$5'), '$SET costs $5');
  });
  it('rejects malformed templates', () => {
    // compose-go's TestInvalid: "${", "${}", "${ }", "${ foo}", "${foo }", "${foo!}".
    assert.throws(() => run('${SET'), /missing closing/);
    assert.throws(() => run('${'), /missing closing/);
    assert.throws(() => run('${}'), /bad variable name/);
    assert.throws(() => run('${ }'), /bad variable name/);
    assert.throws(() => run('${ SET}'), /bad variable name/);
    assert.throws(() => run('${SET }'), /unknown modifier/);
    assert.throws(() => run('${SET!}'), /unknown modifier/);
    assert.throws(() => run('${SET:x}'), /unknown modifier/);
  });
  it('keeps a $ that starts no name and no ${ as written', () => {
    // compose-go's TestUnescaped: "a $ string", "^REGEX$", "$}" and "$" come back unchanged.
    for (const s of ['a $ string', '^REGEX$', '$}', '$', 'cost $5', 'x $-y'])
      assert.equal(run(s), s);
    assert.equal(run('^$SET$'), '^value$');
  });
});

describe('dotenv', () => {
  it('parses comments, export, quotes, escapes and earlier variables', () => {
    const text = [
      '# comment',
      'export A=1',
      "B='lit ${A} \\n'",
      'C="dq ${A}\\tx\\"q\\""',
      'D=${A}-${OUTER}  # trailing comment',
      'E=',
      'F="multi',
      'line"',
      '',
      'G=a#b',
    ].join('\n');
    const env = parseDotenv(text, (n) => (n === 'OUTER' ? 'out' : undefined));
    assert.deepEqual(env, {
      A: '1',
      B: 'lit ${A} \\n',
      C: 'dq 1\tx"q"',
      D: '1-out',
      E: '',
      F: 'multi\nline',
      G: 'a#b',
    });
  });
  it('names the line of a bad entry', () => {
    assert.throws(
      () => parseDotenv('A=1\n9BAD=2', () => undefined),
      (e: Error & { line?: number }) => e.line === 2,
    );
  });
});

describe('loadProject environment', () => {
  const compose =
    'services:\n  web:\n    image: "img:${TAG}"\n    command: ["echo", "${GREETING:-hi}", "$$HOME"]\n';

  it('takes .env from the project folder, with the shell winning', async () => {
    const dir = await project({
      'compose.yaml': compose,
      '.env': 'TAG=fromdotenv\nGREETING=hello\n',
    });
    const p = await loadProject({ cwd: dir, env: { TAG: 'fromshell' } });
    assert.equal(p.services.web?.image, 'img:fromshell');
    assert.deepEqual(p.services.web?.command, ['echo', 'hello', '$HOME']);
  });

  it('--env-file replaces .env', async () => {
    const dir = await project({
      'compose.yaml': compose,
      '.env': 'TAG=dotenv\n',
      'other.env': 'GREETING=other\n',
    });
    const p = await loadProject({ cwd: dir, env: {}, envFiles: ['other.env'] });
    assert.equal(p.services.web?.image, 'img:');
    assert.deepEqual(p.services.web?.command, ['echo', 'other', '$HOME']);
    assert.deepEqual(p.warnings, ['The "TAG" variable is not set. Defaulting to a blank string.']);
  });

  it('warns once per unset variable', async () => {
    const dir = await project({
      'compose.yaml': 'services:\n  a:\n    image: "$X"\n  b:\n    image: "${X}"\n',
    });
    const p = await loadProject({ cwd: dir, env: {} });
    assert.deepEqual(p.warnings, ['The "X" variable is not set. Defaulting to a blank string.']);
  });

  it('a missing --env-file is an error naming it', async () => {
    const dir = await project({ 'compose.yaml': compose });
    await assert.rejects(
      loadProject({ cwd: dir, env: {}, envFiles: ['nope.env'] }),
      /cannot read env file .*nope\.env/,
    );
  });

  it(':? errors carry the file position and key path', async () => {
    const dir = await project({
      'compose.yaml': 'services:\n  web:\n    image: "${IMG:?set IMG}"\n',
    });
    await assert.rejects(loadProject({ cwd: dir, env: {} }), (err: unknown) => {
      assert.ok(err instanceof ComposeError);
      assert.equal(
        err.message,
        'compose.yaml:3:12: services.web.image: required variable IMG is missing a value: set IMG',
      );
      return true;
    });
  });

  it('does not interpolate keys', async () => {
    const dir = await project({
      'compose.yaml': 'services:\n  web:\n    image: x\n    labels:\n      $KEY: "$VAL"\n',
    });
    const p = await loadProject({ cwd: dir, env: { KEY: 'k', VAL: 'v' } });
    assert.deepEqual(p.services.web?.labels, { $KEY: 'v' });
  });
});
