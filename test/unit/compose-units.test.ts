import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { levenshtein, nearest } from '../../src/compose/levenshtein.ts';
import { parseShortPort, PortSyntaxError } from '../../src/compose/ports.ts';
import { splitShellWords } from '../../src/compose/shellwords.ts';
import { toSignal } from '../../src/compose/signals.ts';
import { parseDuration, parseSize } from '../../src/compose/units.ts';

describe('durations', () => {
  it('parses Go-style durations into milliseconds', () => {
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('10s'), 10_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('2h45m'), 9_900_000);
  });
  it('rejects malformed durations', () => {
    for (const bad of ['3O', '', 's', '10', '1m30', '1x', '-1s', '1 m'])
      assert.equal(parseDuration(bad), undefined, bad);
  });
});

describe('sizes', () => {
  it('binary units in any case, bytes without unit', () => {
    assert.equal(parseSize('512M'), 512 * 1024 ** 2);
    assert.equal(parseSize('1g'), 1024 ** 3);
    assert.equal(parseSize('100kb'), 102_400);
    assert.equal(parseSize('1.5G'), 1.5 * 1024 ** 3);
    assert.equal(parseSize('2048'), 2048);
    assert.equal(parseSize('10b'), 10);
  });
  it('rejects unknown units', () => {
    for (const bad of ['12 parsecs', 'lots', '1x', ''])
      assert.equal(parseSize(bad), undefined, bad);
  });
});

describe('short port syntax', () => {
  it('rejects bad specs with a reason', () => {
    assert.throws(() => parseShortPort('70000'), PortSyntaxError);
    assert.throws(() => parseShortPort('80:80/sctp'), /unsupported protocol/);
    assert.throws(() => parseShortPort('1-3:4-5'), /differ in length/);
    assert.throws(() => parseShortPort('5-3'), /ends before it starts/);
    assert.throws(() => parseShortPort('[::1:80:80'), /invalid IPv6/);
  });
});

describe('shell words', () => {
  it('splits with quotes and escapes', () => {
    assert.deepEqual(splitShellWords(`a "b c" 'd $e' f\\ g "h\\"i" '' x`), [
      'a',
      'b c',
      'd $e',
      'f g',
      'h"i',
      '',
      'x',
    ]);
    assert.deepEqual(splitShellWords('  '), []);
    assert.throws(() => splitShellWords('"open'), /unterminated double quote/);
    assert.throws(() => splitShellWords("'open"), /unterminated single quote/);
  });
});

describe('did you mean', () => {
  it('finds the nearest key within typo distance', () => {
    assert.equal(levenshtein('kitten', 'sitting'), 3);
    assert.equal(nearest('helthcheck', ['healthcheck', 'image']), 'healthcheck');
    assert.equal(nearest('enviroment', ['environment', 'entrypoint']), 'environment');
    assert.equal(nearest('zzzzzz', ['image', 'ports']), undefined);
  });
});

describe('signals', () => {
  it('names with or without SIG, and numbers', () => {
    assert.equal(toSignal('SIGTERM'), 'SIGTERM');
    assert.equal(toSignal('hup'), 'SIGHUP');
    assert.equal(toSignal(2), 'SIGINT');
    assert.equal(toSignal('15'), 'SIGTERM');
    assert.equal(toSignal('SIGNOPE'), undefined);
  });
});
