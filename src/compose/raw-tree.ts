// The compose file(s) as plain data: found, interpolated, `extends` resolved and merged exactly as
// loadProject does, but not normalized. For code that needs what the typed Project does not keep
// (keys herd does not run, such as `deploy.update_config`, `secrets` or `networks`): `herd convert`
// carries them over to Kubernetes and Swarm. Run it after loadProject accepted the same options:
// the file is valid by then, so only warnings (unset variables) are left to report.
import { loadInputs, type LoadOptions } from './load.ts';
import { plain } from './merge.ts';
import { readMerged } from './merged.ts';

export type RawMap = Record<string, unknown>;

export interface RawCompose {
  /** The merged top level: `services`, `volumes`, `secrets`, `x-herd`, … as plain values. */
  root: RawMap;
  /** The interpolation environment (shell over `.env`), for values a file names by variable. */
  env: Record<string, string>;
  warnings: string[];
}

export async function readRawCompose(opts: LoadOptions = {}): Promise<RawCompose> {
  // The loader's own inputs and merge, so the raw tree is exactly what the Project was read from.
  const inputs = loadInputs(opts);
  inputs.diag.throwIfErrors();
  const { root, env } = await readMerged(inputs, opts.projectName);
  return { root: asMap(plain(root)) ?? {}, env, warnings: inputs.diag.warnings };
}

/** `v` when it is a mapping, else undefined. */
export function asMap(v: unknown): RawMap | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as RawMap) : undefined;
}
