// Parser for .env and env_file files with Compose's rules: comments, `export ` prefix, single quotes
// literal, double quotes with escapes, and ${VAR} substitution from earlier lines then the environment.
import { interpolate, InterpolationError, type Lookup } from './interpolate.ts';

export class DotenvError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const DOUBLE_ESCAPES: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  '\\': '\\',
  '"': '"',
  $: '$$',
};

/**
 * Parses env-file text. `outer` resolves variables not defined earlier in the file (and keys
 * listed without `=`). Returns entries in file order.
 */
export function parseDotenv(text: string, outer: Lookup): Record<string, string> {
  const result: Record<string, string> = {};
  const lookup: Lookup = (n) => (Object.hasOwn(result, n) ? result[n] : outer(n));
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice(7).trimStart();
    const eq = line.indexOf('=');
    if (eq < 0) {
      // A bare KEY takes its value from the environment, or is left out when unset.
      if (!KEY_RE.test(line))
        throw new DotenvError(`invalid line ${JSON.stringify(line)} (expected KEY=VALUE)`, lineNo);
      const v = outer(line);
      if (v !== undefined) result[line] = v;
      continue;
    }
    const key = line.slice(0, eq).trim();
    if (!KEY_RE.test(key))
      throw new DotenvError(`invalid variable name ${JSON.stringify(key)}`, lineNo);
    let rest = line.slice(eq + 1).trimStart();
    const quote = rest[0];
    let value: string;
    if (quote === "'" || quote === '"') {
      // Quoted values may span lines until the closing quote.
      let body = rest.slice(1);
      let close = findClose(body, quote);
      while (close < 0 && i + 1 < lines.length) {
        i++;
        body += '\n' + (lines[i] as string);
        close = findClose(body, quote);
      }
      if (close < 0) throw new DotenvError(`unterminated ${quote} quote for ${key}`, lineNo);
      const raw = body.slice(0, close);
      value = quote === "'" ? raw : expand(unescapeDouble(raw), lookup, lineNo);
    } else {
      const hash = rest.search(/\s#/);
      if (hash >= 0) rest = rest.slice(0, hash);
      value = expand(rest.trim(), lookup, lineNo);
    }
    result[key] = value;
  }
  return result;
}

function findClose(s: string, quote: string): number {
  for (let k = 0; k < s.length; k++) {
    if (quote === '"' && s[k] === '\\') {
      k++;
      continue;
    }
    if (s[k] === quote) return k;
  }
  return -1;
}

function unescapeDouble(s: string): string {
  return s.replace(/\\(.)/g, (m, c: string) => DOUBLE_ESCAPES[c] ?? m);
}

function expand(s: string, lookup: Lookup, line: number): string {
  try {
    return interpolate(s, { lookup });
  } catch (err) {
    if (err instanceof InterpolationError) throw new DotenvError(err.message, line);
    throw err;
  }
}
