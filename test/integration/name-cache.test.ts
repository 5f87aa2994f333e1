// The project name a verb finds for its compose files, through the name cache (name-cache.ts):
// remembered after a load only when the files alone decide it, used only for the same files with
// the same contents, and never in place of what `.env` or the shell say. Real files and folders.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveProjectName } from '../../src/daemon/locate.ts';
import { cachedName, nameCacheDir, nameKey, rememberName } from '../../src/daemon/name-cache.ts';
import { tempDir } from '../helpers/tmp.ts';

const SERVICES = 'services:\n  web:\n    command: [node, app.js]\n';

/** A project folder `My App` with `compose.yaml` (and `more` files), and an environment whose
 * name cache is its own. */
function project(compose: string, more: Record<string, string> = {}) {
  const root = tempDir('name-cache');
  const dir = join(root, 'My App');
  mkdirSync(dir);
  const file = join(dir, 'compose.yaml');
  for (const [name, text] of Object.entries({ 'compose.yaml': compose, ...more }))
    writeFileSync(join(dir, name), text);
  const cache = join(root, 'cache');
  const resolve = (extra: Record<string, string> = {}) =>
    resolveProjectName({ file: [file] }, { XDG_CACHE_HOME: cache, ...extra });
  const cacheFile = join(cache, 'herd', 'project-names.json');
  /** The names the cache holds. */
  const remembered = (): string[] =>
    existsSync(cacheFile)
      ? (JSON.parse(readFileSync(cacheFile, 'utf8')) as { name: string }[]).map((e) => e.name)
      : [];
  return { dir, file, cacheDir: join(cache, 'herd'), cacheFile, resolve, remembered };
}

describe('project name cache', () => {
  it('lives in $XDG_CACHE_HOME/herd, else ~/.cache/herd; a relative XDG_CACHE_HOME is ignored', () => {
    assert.equal(nameCacheDir({ XDG_CACHE_HOME: '/x', HOME: '/h' }), '/x/herd');
    assert.equal(nameCacheDir({ HOME: '/h' }), '/h/.cache/herd');
    assert.equal(nameCacheDir({ XDG_CACHE_HOME: 'rel', HOME: '/h' }), '/h/.cache/herd');
  });

  it('remembers a name the files decide, and answers from it while they are unchanged', async () => {
    const p = project(`name: shop\n${SERVICES}`);
    assert.equal(await p.resolve(), 'shop');
    assert.deepEqual(p.remembered(), ['shop']);
    // Proof that the cache answers: an entry forged for these very files wins over parsing them.
    const key = nameKey(p.dir, [p.file])!;
    rememberName(key, 'forged', p.cacheDir);
    assert.equal(await p.resolve(), 'forged');
  });

  it('the folder name (normalized) is remembered too', async () => {
    const p = project(SERVICES);
    assert.equal(await p.resolve(), 'myapp');
    assert.deepEqual(p.remembered(), ['myapp']);
  });

  it('a changed file is loaded again, even when only a byte differs and its size does not', async () => {
    const p = project(`name: shop-a\n${SERVICES}`);
    assert.equal(await p.resolve(), 'shop-a');
    writeFileSync(p.file, `name: shop-b\n${SERVICES}`);
    assert.equal(await p.resolve(), 'shop-b');
    assert.deepEqual(p.remembered().sort(), ['shop-a', 'shop-b']);
  });

  it('the list of files is part of the key: another file merged in decides again', async () => {
    const p = project(`name: shop\n${SERVICES}`, { 'compose.override.yaml': 'name: shop-two\n' });
    assert.equal(await p.resolve(), 'shop');
    const both = [p.file, join(p.dir, 'compose.override.yaml')];
    const env = { XDG_CACHE_HOME: join(p.cacheDir, '..') };
    assert.equal(await resolveProjectName({ file: both }, env), 'shop-two');
    assert.notEqual(nameKey(p.dir, both), nameKey(p.dir, [p.file]));
    assert.deepEqual(p.remembered().sort(), ['shop', 'shop-two']);
  });

  it('an interpolated name is never remembered: the variable decides each time', async () => {
    const p = project(`name: shop-\${STAGE:-dev}\n${SERVICES}`);
    assert.equal(await p.resolve(), 'shop-dev');
    assert.equal(await p.resolve({ STAGE: 'prod' }), 'shop-prod');
    assert.deepEqual(p.remembered(), []);
  });

  it("COMPOSE_PROJECT_NAME in the project's .env, or the shell's, wins over a remembered name", async () => {
    const p = project(`name: shop\n${SERVICES}`);
    assert.equal(await p.resolve(), 'shop');
    writeFileSync(join(p.dir, '.env'), 'COMPOSE_PROJECT_NAME=from-dotenv\n');
    assert.equal(await p.resolve(), 'from-dotenv');
    assert.equal(await p.resolve({ COMPOSE_PROJECT_NAME: 'from-shell' }), 'from-shell');
    assert.deepEqual(p.remembered(), ['shop']);
  });

  it('a broken file is reported by the loader, and nothing is remembered', async () => {
    const p = project('name: shop\nservices: [\n');
    await assert.rejects(p.resolve(), /compose\.yaml:\d+:\d+/);
    assert.deepEqual(p.remembered(), []);
  });

  it('a cache file that is malformed, names an invalid project, or others may write is ignored', async () => {
    const p = project(`name: shop\n${SERVICES}`);
    assert.equal(await p.resolve(), 'shop');
    const key = nameKey(p.dir, [p.file])!;
    writeFileSync(p.cacheFile, '{not json');
    assert.equal(cachedName(key, p.cacheDir), undefined);
    writeFileSync(p.cacheFile, JSON.stringify([{ key, name: 'Not Valid!' }]));
    assert.equal(cachedName(key, p.cacheDir), undefined);
    writeFileSync(p.cacheFile, JSON.stringify([{ key, name: 'planted' }]));
    assert.equal(cachedName(key, p.cacheDir), 'planted');
    chmodSync(p.cacheFile, 0o666);
    assert.equal(cachedName(key, p.cacheDir), undefined);
    chmodSync(p.cacheFile, 0o600);
    chmodSync(p.cacheDir, 0o777);
    assert.equal(cachedName(key, p.cacheDir), undefined);
    assert.equal(await p.resolve(), 'shop', 'an untrusted cache is not used; the files are');
  });
});
