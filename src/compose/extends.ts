// `extends`: a service inherits another service's definition (same file or `file:`), merged with
// Compose's override rules. Relative host paths from another folder's file are rebased to it.
import path from 'node:path';
import type { Diagnostics } from './errors.ts';
import { join } from './interpolate-tree.ts';
import { EXTENDS_KEYS } from './keys.ts';
import { mergeServiceNodes } from './merge.ts';
import { readTextBounded } from './read-bounded.ts';
import { rebaseServicePaths } from './rebase.ts';
import { parseYaml, type CEntry, type CMap, type CNode } from './yaml-source.ts';
import type { Checker } from './check.ts';

/** Prepares a freshly parsed file (interpolated, for example) before its services are used. */
export type FilePrep = (node: CNode, file: string) => CNode;

export class ExtendsResolver {
  private readonly files = new Map<string, CMap | undefined>();

  constructor(
    private readonly c: Checker,
    private readonly prep: FilePrep,
  ) {}

  private get diag(): Diagnostics {
    return this.c.diag;
  }

  /** Resolves every service of `root` (the parsed file `file`) in place. */
  resolveFile(root: CMap, file: string): void {
    this.files.set(file, root);
    const services = root.entries.get('services')?.value;
    if (!services || services.kind !== 'map') return;
    for (const [name, e] of services.entries) {
      if (e.value.kind === 'map') e.value = this.resolve(file, name, e.value, []);
    }
  }

  private resolve(file: string, name: string, svc: CMap, chain: string[]): CMap {
    const ext = svc.entries.get('extends');
    if (!ext) return svc;
    const p = `services.${name}.extends`;
    const id = `${file}#${name}`;
    if (chain.includes(id)) {
      this.diag.error(
        ext.keyPos,
        p,
        `extends cycle: ${[...chain, id].map((s) => s.split('#')[1]).join(' -> ')}`,
      );
      return svc;
    }
    let baseName: string | undefined;
    let baseFile = file;
    if (ext.value.kind === 'map') {
      this.c.keys(ext.value, p, EXTENDS_KEYS, false);
      const sn = ext.value.entries.get('service')?.value;
      baseName = sn ? this.c.string(sn, join(p, 'service')) : undefined;
      if (!sn) this.diag.error(ext.value.pos, p, 'extends needs `service`');
      const fn = ext.value.entries.get('file')?.value;
      const f = fn ? this.c.string(fn, join(p, 'file')) : undefined;
      if (f !== undefined) baseFile = path.resolve(path.dirname(file), f);
    } else
      baseName = this.c.string(
        ext.value,
        p,
        'a service name or a mapping with `service` and `file`',
      );
    if (baseName === undefined) return svc;
    const baseRoot = this.loadFile(baseFile, ext);
    const baseServices = baseRoot?.entries.get('services')?.value;
    const base =
      baseServices?.kind === 'map' ? baseServices.entries.get(baseName)?.value : undefined;
    if (!base || base.kind !== 'map') {
      if (baseRoot)
        this.diag.error(ext.value.pos, p, `extends unknown service "${baseName}" in ${baseFile}`);
      return svc;
    }
    let resolvedBase = this.resolve(baseFile, baseName, base, [...chain, id]);
    if (path.dirname(baseFile) !== path.dirname(file))
      resolvedBase = rebaseServicePaths(resolvedBase, path.dirname(baseFile));
    const own = new Map(svc.entries);
    own.delete('extends');
    // depends_on is inherited from another file too (Compose keeps it); the dependency must then
    // exist in this project, which checkDependencies reports at its place in the other file.
    return mergeServiceNodes(resolvedBase, { ...svc, entries: own }) as CMap;
  }

  private loadFile(file: string, from: CEntry): CMap | undefined {
    if (this.files.has(file)) return this.files.get(file);
    let text: string;
    try {
      text = readTextBounded(file);
    } catch (err) {
      this.diag.error(
        from.value.pos,
        '',
        `cannot read extended file ${file}: ${(err as Error).message}`,
      );
      this.files.set(file, undefined);
      return undefined;
    }
    const parsed = parseYaml(text, file, this.diag);
    const root = parsed ? this.prep(parsed, file) : undefined;
    const map = root?.kind === 'map' ? root : undefined;
    this.files.set(file, map);
    return map;
  }
}
