// Size-based rotation of one replica's log: `<name>.log` → `.log.1` → `.log.2` …, oldest dropped.
import { existsSync, renameSync, rmSync } from 'node:fs';

export interface RotationPolicy {
  /** Rotate when the current file would grow past this many bytes. */
  maxBytes: number;
  /** Files kept per replica, the current one included. */
  maxFiles: number;
}

export const defaultRotation: RotationPolicy = { maxBytes: 10 * 1024 * 1024, maxFiles: 3 };

/** Path of generation `n` of a log: 0 is the live file. */
export function generationPath(base: string, n: number): string {
  return n === 0 ? base : `${base}.${n}`;
}

/** Shifts every generation up by one; the live file becomes `.1` and the oldest is removed. */
export function rotateFiles(base: string, policy: RotationPolicy): void {
  const last = Math.max(1, policy.maxFiles) - 1;
  rmSync(generationPath(base, last), { force: true });
  for (let n = last - 1; n >= 0; n--) {
    const from = generationPath(base, n);
    if (existsSync(from)) renameSync(from, generationPath(base, n + 1));
  }
  if (last === 0) rmSync(base, { force: true });
}

/** Existing generations, oldest first (the order their lines were written). */
export function generationsOldestFirst(base: string, policy: RotationPolicy): string[] {
  const out: string[] = [];
  for (let n = Math.max(1, policy.maxFiles) - 1; n >= 0; n--) {
    const p = generationPath(base, n);
    if (existsSync(p)) out.push(p);
  }
  return out;
}
