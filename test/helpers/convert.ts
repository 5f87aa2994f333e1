// Converts a compose file given as text, through the real loader, for the convert tests.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadProject } from '../../src/compose/load.ts';
import { readRawCompose } from '../../src/compose/raw-tree.ts';
import type { ConvertSource, K8sOptions } from '../../src/convert/context.ts';
import type { K8sObject } from '../../src/convert/k8s-types.ts';
import { toKubernetes } from '../../src/convert/kubernetes.ts';
import { ConvertReport } from '../../src/convert/report.ts';
import { toSwarm } from '../../src/convert/swarm.ts';
import { tempDir } from './tmp.ts';

/** A project folder holding `compose.yaml` and the other files given (name → content). */
export function composeDir(yaml: string, files: Record<string, string> = {}): string {
  const dir = tempDir('convert');
  writeFileSync(path.join(dir, 'compose.yaml'), yaml);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

export async function sourceOf(dir: string): Promise<ConvertSource> {
  const opts = { cwd: dir, env: { PATH: process.env.PATH ?? '' } };
  const project = await loadProject(opts);
  return { project, raw: await readRawCompose(opts), report: new ConvertReport() };
}

export interface K8sConversion {
  objects: K8sObject[];
  report: ConvertReport;
  /** The one object of that kind and name; fails the test when missing. */
  get(kind: string, name: string): K8sObject;
}

export async function convertK8s(
  yaml: string,
  options: Partial<K8sOptions> = {},
  files: Record<string, string> = {},
): Promise<K8sConversion> {
  const src = await sourceOf(composeDir(yaml, files));
  const objects = toKubernetes(src, {
    serviceType: 'ClusterIP',
    httpProbes: false,
    ...options,
  }).map((m) => m.object);
  return {
    objects,
    report: src.report,
    get(kind, name) {
      const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
      if (!o)
        throw new Error(
          `no ${kind} ${name} in ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`,
        );
      return o;
    },
  };
}

export async function convertSwarm(
  yaml: string,
  files: Record<string, string> = {},
): Promise<{ doc: Record<string, unknown>; report: ConvertReport; dir: string }> {
  const dir = composeDir(yaml, files);
  const src = await sourceOf(dir);
  return { doc: toSwarm(src), report: src.report, dir };
}

/** `o.spec.template.spec.containers[0]`, loosely typed for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;
export function podSpec(o: K8sObject): Loose {
  return (o.spec as Loose).template.spec;
}
export function container(o: K8sObject): Loose {
  return podSpec(o).containers[0];
}
