// Replica output is split into lines with a cap, so output without newlines stays bounded.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, MAX_LINE } from '../../src/runtime/process/lines.ts';
import { LineSplitter as DockerLineSplitter } from '../../src/runtime/docker/lines.ts';

function collect(): { lines: string[]; splitter: LineSplitter } {
  const lines: string[] = [];
  return { lines, splitter: new LineSplitter((l) => lines.push(l)) };
}

describe('LineSplitter', () => {
  it('cuts 1 MB without a newline into 16 KiB lines, holding at most one line', () => {
    const { lines, splitter } = collect();
    const chunk = Buffer.alloc(1000, 'x');
    let peak = 0;
    let fed = 0;
    while (fed < 1024 * 1024) {
      const part = chunk.subarray(0, Math.min(chunk.length, 1024 * 1024 - fed));
      splitter.push(part);
      fed += part.length;
      peak = Math.max(peak, splitter.pending);
    }
    assert.equal(MAX_LINE, 16 * 1024);
    assert.ok(peak < MAX_LINE, `held ${peak} chars`);
    assert.equal(lines.length, 64);
    assert.ok(lines.every((l) => l.length === MAX_LINE));
    splitter.flush();
    assert.equal(lines.length, 64, 'nothing left over: 1 MiB is exactly 64 lines');
    assert.equal(splitter.pending, 0);
  });

  it('keeps the remainder of a long line and ends it at the newline', () => {
    const { lines, splitter } = collect();
    splitter.push(Buffer.from('y'.repeat(MAX_LINE + 10) + '\r\nnext\n'));
    assert.deepEqual(
      lines.map((l) => l.length),
      [MAX_LINE, 10, 4],
    );
    assert.equal(lines[1], 'y'.repeat(10));
  });

  it('a line of exactly the cap stays one line', () => {
    const { lines, splitter } = collect();
    splitter.push(Buffer.from('z'.repeat(MAX_LINE)));
    splitter.push(Buffer.from('\nafter\n'));
    assert.deepEqual(lines, ['z'.repeat(MAX_LINE), 'after']);
  });

  it('does not split a surrogate pair at the cap', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l), 4);
    splitter.push(Buffer.from('abc😀def\n'));
    assert.deepEqual(lines, ['abc', '😀de', 'f']);
  });

  it('leaves normal lines alone: CRLF, empty lines, chunks cut mid-line and mid-character', () => {
    const { lines, splitter } = collect();
    const bytes = Buffer.from('a\nb\r\n\nhé\nwörld\npartial');
    for (let i = 0; i < bytes.length; i += 3) splitter.push(bytes.subarray(i, i + 3));
    assert.deepEqual(lines, ['a', 'b', '', 'hé', 'wörld']);
    splitter.flush();
    assert.deepEqual(lines, ['a', 'b', '', 'hé', 'wörld', 'partial']);
  });

  it("the Docker handle's splitter caps lines too", () => {
    const lines: string[] = [];
    const splitter = new DockerLineSplitter((l) => lines.push(l));
    splitter.write(Buffer.alloc(MAX_LINE * 2 + 1, 'q'));
    splitter.write('ok\r\nrest');
    splitter.end();
    assert.deepEqual(
      lines.map((l) => l.length),
      [MAX_LINE, MAX_LINE, 3, 4],
    );
  });
});
