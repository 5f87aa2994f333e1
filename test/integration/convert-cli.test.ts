import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { HERD } from '../helpers/e2e.ts';
import { runEnv } from '../helpers/run-env.ts';
import { composeDir } from '../helpers/convert.ts';

const run = promisify(execFile);

async function convert(
  cwd: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [HERD, 'convert', ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...runEnv() },
    });
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const FILE = `
services:
  web: { image: nginx, ports: ["8080:80"], cap_add: [NET_ADMIN], ulimits: { nofile: 1024 }, x-herd: { autoscale: { max: 3, cpu: 50 } } }
`;

describe('herd convert (command line)', () => {
  it('writes every object on stdout by default and lists what it dropped on stderr', async () => {
    const r = await convert(composeDir(FILE), '--to', 'k8s');
    assert.equal(r.code, 0, r.stderr);
    const kinds = parseAllDocuments(r.stdout).map((d) => d.toJS().kind);
    assert.deepEqual(kinds, ['Deployment', 'Service', 'HorizontalPodAutoscaler']);
    assert.match(r.stderr, /herd: convert: services\.web\.ulimits: not converted: /);
    assert.match(r.stderr, /herd: convert: 3 objects; 1 key\(s\) not converted, listed above\n$/);
  });

  it('writes one file per object into a folder, and a stack file', async () => {
    const dir = composeDir(FILE);
    mkdirSync(path.join(dir, 'k8s'));
    assert.equal((await convert(dir, '--to', 'kubernetes', '-o', 'k8s')).code, 0);
    assert.deepEqual(readdirSync(path.join(dir, 'k8s')).sort(), [
      'web-deployment.yaml',
      'web-hpa.yaml',
      'web-service.yaml',
    ]);
    const r = await convert(dir, '--to', 'swarm', '-o', 'stack.yaml');
    assert.equal(r.code, 0);
    assert.match(r.stderr, /stack file written to stack\.yaml/);
    assert.ok(readdirSync(dir).includes('stack.yaml'));
  });

  it('refuses bad flags and outputs with what is expected', async () => {
    const dir = composeDir(FILE);
    writeFileSync(path.join(dir, 'taken'), '');
    const cases: [string[], RegExp][] = [
      [['--to', 'nomad'], /--to nomad: expected kubernetes or swarm/],
      [['--to', 'k8s', '--namespace', 'Prod_1'], /--namespace Prod_1: expected a DNS-1123 label/],
      [['--to', 'k8s', '--image-pull-policy', 'sometimes'], /expected Always, IfNotPresent, Never/],
      [['--to', 'k8s', '--service-type', 'NodePort'], /expected ClusterIP or LoadBalancer/],
      [['--to', 'k8s', '-o', 'taken'], /-o taken: a file; for Kubernetes give a folder/],
      [['--to', 'swarm', '-o', '.'], /-o \.: a folder; for Swarm give a file name/],
    ];
    for (const [args, message] of cases) {
      const r = await convert(dir, ...args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, message);
    }
  });
});
