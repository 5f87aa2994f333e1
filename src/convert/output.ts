// Writing a conversion: YAML that YAML 1.1 readers (PyYAML in docker-compose, go-yaml in kubectl)
// read back as written (`"yes"`, `"0755"` and `"1:20"` stay strings), one file per Kubernetes object
// in a folder, or every document on stdout.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Document } from 'yaml';
import type { Manifest } from './k8s-types.ts';

const FILE_KIND: Record<string, string> = {
  HorizontalPodAutoscaler: 'hpa',
  PersistentVolumeClaim: 'pvc',
};

export function yamlText(value: unknown, comment?: string): string {
  // No anchors: probes share one handler object, and a manifest reads better spelled out.
  const doc = new Document(value, { version: '1.1', aliasDuplicateObjects: false });
  if (comment) doc.commentBefore = ` ${comment}`;
  return doc.toString({ lineWidth: 0 });
}

/** Every manifest as one multi-document stream. */
export function manifestStream(manifests: Manifest[]): string {
  return manifests.map((m) => yamlText(m.object, m.comment)).join('---\n');
}

/** The file a manifest is written to: `web-deployment.yaml`, `web-hpa.yaml`. */
export function manifestFile(m: Manifest): string {
  const kind = FILE_KIND[m.object.kind] ?? m.object.kind.toLowerCase();
  return `${m.object.metadata.name}-${kind}.yaml`;
}

/** Writes one file per manifest into `dir` (created if needed); returns the file names. */
export function writeManifests(dir: string, manifests: Manifest[]): string[] {
  mkdirSync(dir, { recursive: true });
  return manifests.map((m) => {
    const file = manifestFile(m);
    writeFileSync(path.join(dir, file), yamlText(m.object, m.comment));
    return file;
  });
}
