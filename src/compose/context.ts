// What every per-concern reader needs: where problems go, the project folder and the environment.
import type { Checker } from './check.ts';
import type { Lookup } from './interpolate.ts';

export interface LoadContext {
  c: Checker;
  /** Absolute project folder: relative paths resolve against it. */
  projectDir: string;
  /** Interpolation environment: shell over .env / --env-file. */
  lookup: Lookup;
}
