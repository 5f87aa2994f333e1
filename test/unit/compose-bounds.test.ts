// Input that could hang or crash the loader ends fast with a positioned error: deep nesting, an
// alias bomb, duplicate keys; and a mapping of 40 000 keys loads in time linear in its size.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Diagnostics } from '../../src/compose/errors.ts';
import { flowTooDeep, MAX_DEPTH, parseYaml } from '../../src/compose/yaml-source.ts';

function problems(text: string): string[] {
  const diag = new Diagnostics();
  parseYaml(text, 'c.yaml', diag);
  return diag.errors.map(
    (e) => `${e.pos ? `${e.pos.file}:${e.pos.line}:${e.pos.col}` : '-'}: ${e.message}`,
  );
}

describe('bounded YAML', () => {
  it('refuses flow nesting 100 000 deep at its file:line:col, fast', () => {
    const n = 100_000;
    const text = `services:\n  web:\n    labels: {deep: ${'['.repeat(n)}${']'.repeat(n)}}\n`;
    const t0 = performance.now();
    const out = problems(text);
    assert.ok(performance.now() - t0 < 2000, 'in well under the 5 s of the acceptance check');
    assert.deepEqual(out, [
      `c.yaml:3:${19 + MAX_DEPTH}: invalid YAML: nested more than ${MAX_DEPTH} levels deep`,
    ]);
  });

  it("refuses block nesting 100 000 deep (- - - …) at its position, without the parser's stack error", () => {
    const text = `services:\n  web:\n    labels:\n      x:\n        ${'- '.repeat(100_000)}a\n`;
    const t0 = performance.now();
    const out = problems(text);
    assert.ok(performance.now() - t0 < 2000);
    assert.equal(out.length, 1);
    assert.match(out[0]!, /^c\.yaml:5:\d+: invalid YAML: nested too deep to read/);
  });

  it('counts brackets in neither quoted strings nor comments', () => {
    const many = '['.repeat(MAX_DEPTH + 5);
    assert.equal(
      flowTooDeep(`a: "${many}"\nb: '${many}'\n# ${many}\nc: don't ${']'.repeat(3)}\n`),
      undefined,
    );
    assert.equal(flowTooDeep(`a: ${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}\n`), undefined);
    assert.notEqual(flowTooDeep(`a: ${many}`), undefined);
  });

  it('refuses an alias bomb with a position', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const out = problems(lines.join('\n') + '\n');
    assert.match(out[0]!, /^c\.yaml:\d+:\d+: YAML expands to more than \d+ values/);
  });

  it('reports each duplicate key where it is', () => {
    assert.deepEqual(problems('a: 1\nb: 2\na: 3\nb: 4\n'), [
      'c.yaml:3:1: invalid YAML: Map keys must be unique',
      'c.yaml:4:1: invalid YAML: Map keys must be unique',
    ]);
  });

  it('a mapping of 40 000 keys takes about four times what 10 000 take (linear, not quadratic)', () => {
    const doc = (n: number) => {
      let s = 'environment:\n';
      for (let i = 0; i < n; i++) s += `  K${i}: v${i}\n`;
      return s;
    };
    const cpu = (text: string) => {
      const best: number[] = [];
      for (let round = 0; round < 3; round++) {
        const c = process.cpuUsage();
        parseYaml(text, 'c.yaml', new Diagnostics());
        const d = process.cpuUsage(c);
        best.push(d.user + d.system);
      }
      return Math.min(...best);
    };
    const small = cpu(doc(10_000));
    const large = cpu(doc(40_000));
    // Quadratic would be 16 times; the margin absorbs GC and a busy machine.
    assert.ok(large < small * 8, `10 000 keys: ${small} µs, 40 000 keys: ${large} µs`);
  });
});
