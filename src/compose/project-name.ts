// Project name precedence as in Compose: -p, COMPOSE_PROJECT_NAME, top-level `name:`, folder name.
import path from 'node:path';
import type { Checker } from './check.ts';
import { isValidProjectName, normalizeProjectName, PROJECT_NAME_RULE } from './names.ts';
import type { CNode } from './yaml-source.ts';

export function resolveProjectName(
  flag: string | undefined,
  env: Record<string, string>,
  nameNode: CNode | undefined,
  projectDir: string,
  c: Checker,
): string {
  if (flag !== undefined) {
    if (!isValidProjectName(flag))
      c.diag.error(
        undefined,
        '',
        `invalid project name ${JSON.stringify(flag)} given with -p: ${PROJECT_NAME_RULE}`,
      );
    return flag;
  }
  const fromEnv = env.COMPOSE_PROJECT_NAME;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!isValidProjectName(fromEnv)) {
      c.diag.error(
        undefined,
        '',
        `invalid project name ${JSON.stringify(fromEnv)} in COMPOSE_PROJECT_NAME: ${PROJECT_NAME_RULE}`,
      );
    }
    return fromEnv;
  }
  if (nameNode && !(nameNode.kind === 'scalar' && nameNode.value === null)) {
    const s = c.string(nameNode, 'name');
    if (s !== undefined && s !== '') {
      if (!isValidProjectName(s))
        c.diag.error(
          nameNode.pos,
          'name',
          `invalid project name ${JSON.stringify(s)}: ${PROJECT_NAME_RULE}`,
        );
      return s;
    }
  }
  const fromDir = normalizeProjectName(path.basename(projectDir));
  if (fromDir === '') {
    c.diag.error(
      undefined,
      '',
      `cannot derive a project name from the folder ${projectDir}; set one with -p or \`name:\``,
    );
  }
  return fromDir;
}
