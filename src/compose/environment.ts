// `environment`, `env_file` and `labels`: env files under environment, bare keys from the shell.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { LoadContext } from './context.ts';
import { DotenvError, parseDotenv } from './dotenv.ts';
import { join } from './interpolate-tree.ts';
import { ENV_FILE_KEYS } from './keys.ts';
import { readTextBounded } from './read-bounded.ts';
import type { CNode } from './yaml-source.ts';

export function readEnvironment(node: CNode, p: string, ctx: LoadContext): Record<string, string> {
  const out: Record<string, string> = {};
  const kv = ctx.c.keyValues(node, p);
  for (const [k, { value }] of kv ?? []) {
    // A key without a value comes from the environment, or is left out when unset (Compose).
    const v = value ?? ctx.lookup(k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export function readLabels(node: CNode, p: string, ctx: LoadContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, { value }] of ctx.c.keyValues(node, p) ?? []) out[k] = value ?? '';
  return out;
}

/** Reads every env_file in order (later files win); a missing required file is an error. */
export function readEnvFiles(node: CNode, p: string, ctx: LoadContext): Record<string, string> {
  const { c } = ctx;
  const entries: { file: string; required: boolean; node: CNode; path: string }[] = [];
  const items = node.kind === 'seq' ? node.items : [node];
  items.forEach((item, i) => {
    const ip = node.kind === 'seq' ? `${p}[${i}]` : p;
    if (item.kind === 'map') {
      c.keys(item, ip, ENV_FILE_KEYS);
      const pathNode = item.entries.get('path')?.value;
      if (!pathNode) {
        c.diag.error(item.pos, ip, 'an env_file entry needs `path`');
        return;
      }
      const f = c.string(pathNode, join(ip, 'path'));
      const reqNode = item.entries.get('required')?.value;
      const required = reqNode ? (c.bool(reqNode, join(ip, 'required')) ?? true) : true;
      const fmt = item.entries.get('format')?.value;
      if (fmt) c.string(fmt, join(ip, 'format'));
      if (f !== undefined)
        entries.push({ file: f, required, node: pathNode, path: join(ip, 'path') });
      return;
    }
    const f = c.string(item, ip, 'a path or a list of paths');
    if (f !== undefined) entries.push({ file: f, required: true, node: item, path: ip });
  });
  const out: Record<string, string> = {};
  for (const e of entries) {
    const abs = path.resolve(ctx.projectDir, e.file);
    if (!existsSync(abs)) {
      if (e.required)
        c.diag.error(
          e.node.pos,
          e.path,
          `env file ${abs} not found (add \`required: false\` to make it optional)`,
        );
      continue;
    }
    try {
      // Values may use ${VAR}: earlier lines first, then the project environment (compose-go does this).
      Object.assign(out, parseDotenv(readTextBounded(abs), ctx.lookup));
    } catch (err) {
      if (err instanceof DotenvError)
        c.diag.error({ file: abs, line: err.line, col: 1 }, '', err.message);
      else
        c.diag.error(e.node.pos, e.path, `cannot read env file ${abs}: ${(err as Error).message}`);
    }
  }
  return out;
}
