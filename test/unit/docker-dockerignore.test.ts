import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIgnored, parseDockerignore } from '../../src/runtime/docker/dockerignore.ts';

describe('.dockerignore matching', () => {
  const rules = parseDockerignore(
    [
      '# comment',
      '',
      'node_modules',
      '*.log',
      '!keep.log',
      'docs/**/*.md',
      '/build/',
      'tmp?',
      '**/.env',
    ].join('\n'),
  );
  const cases: Array<[string, boolean]> = [
    ['node_modules', true],
    ['node_modules/x/index.js', true],
    ['src/node_modules', false],
    ['app.log', true],
    ['keep.log', false],
    ['logs/app.log', false],
    ['docs/a.md', true],
    ['docs/deep/er/b.md', true],
    ['docs/a.txt', false],
    ['build/out.js', true],
    ['tmp1', true],
    ['tmp12', false],
    ['.env', true],
    ['config/prod/.env', true],
    ['src/index.ts', false],
  ];
  for (const [path, expected] of cases) {
    it(`${path} is ${expected ? 'ignored' : 'kept'}`, () =>
      assert.equal(isIgnored(rules, path), expected));
  }

  it('lets a later exception re-include a file inside an ignored folder', () => {
    const r = parseDockerignore('secrets\n!secrets/public.pem\n');
    assert.equal(isIgnored(r, 'secrets/private.pem'), true);
    assert.equal(isIgnored(r, 'secrets/public.pem'), false);
  });

  it('treats regex characters in patterns literally', () => {
    const r = parseDockerignore('a+b.(c)\n');
    assert.equal(isIgnored(r, 'a+b.(c)'), true);
    assert.equal(isIgnored(r, 'aab.(c)'), false);
  });
});
