// Compose variable substitution: $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e}, ${VAR?e},
// ${VAR:+a}, ${VAR+a}, nesting inside the word part, $$ for a literal $, and a lone $ kept as is.

export type Lookup = (name: string) => string | undefined;

/** A substitution that cannot be done: bad syntax or a `?`/`:?` requirement that failed. */
export class InterpolationError extends Error {}

export interface InterpolateHooks {
  lookup: Lookup;
  /** Called for a variable that is unset and has no default; its value becomes "". */
  onUnset?: (name: string) => void;
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

export function interpolate(input: string, hooks: InterpolateHooks): string {
  if (!input.includes('$')) return input;
  let out = '';
  let i = 0;
  while (i < input.length) {
    const ch = input[i] as string;
    if (ch !== '$') {
      out += ch;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next !== undefined && NAME_START.test(next)) {
      let j = i + 1;
      while (j < input.length && NAME_CHAR.test(input[j] as string)) j++;
      out += resolvePlain(input.slice(i + 1, j), hooks);
      i = j;
      continue;
    }
    if (next === '{') {
      const end = matchingBrace(input, i + 1);
      if (end < 0)
        throw new InterpolationError(
          `invalid interpolation format for ${JSON.stringify(input)}: missing closing "}"`,
        );
      out += resolveBraced(input.slice(i + 2, end), input, hooks);
      i = end + 1;
      continue;
    }
    // A `$` that starts no name and no `{` is kept as written (`^REGEX$`, `a $ b`), as Compose does.
    out += '$';
    i++;
  }
  return out;
}

/** Index of the `}` closing the `{` at `open`, honouring nested `${...}`. */
function matchingBrace(s: string, open: number): number {
  let depth = 0;
  for (let k = open; k < s.length; k++) {
    const c = s[k];
    if (c === '$' && s[k + 1] === '$') {
      k++;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return k;
    }
  }
  return -1;
}

function resolvePlain(name: string, hooks: InterpolateHooks): string {
  const v = hooks.lookup(name);
  if (v === undefined) {
    hooks.onUnset?.(name);
    return '';
  }
  return v;
}

function resolveBraced(body: string, whole: string, hooks: InterpolateHooks): string {
  let j = 0;
  while (j < body.length && NAME_CHAR.test(body[j] as string)) j++;
  const name = body.slice(0, j);
  if (name === '' || !NAME_START.test(name[0] as string)) {
    throw new InterpolationError(
      `invalid interpolation format for ${JSON.stringify(whole)}: bad variable name in "\${${body}}"`,
    );
  }
  if (j === body.length) return resolvePlain(name, hooks);
  const colon = body[j] === ':';
  const op = body[colon ? j + 1 : j];
  const word = body.slice(colon ? j + 2 : j + 1);
  if (op !== '-' && op !== '?' && op !== '+') {
    throw new InterpolationError(
      `invalid interpolation format for ${JSON.stringify(whole)}: unknown modifier in "\${${body}}" (use :-, -, :?, ?, :+ or +)`,
    );
  }
  const value = hooks.lookup(name);
  // With a colon the empty string counts as unset; without, only a truly unset variable does.
  const missing = colon ? value === undefined || value === '' : value === undefined;
  switch (op) {
    case '-':
      return missing ? interpolate(word, hooks) : (value as string);
    case '+':
      return missing ? '' : interpolate(word, hooks);
    default: {
      if (!missing) return value as string;
      const msg = interpolate(word, hooks);
      throw new InterpolationError(
        `required variable ${name} is missing a value${msg !== '' ? `: ${msg}` : ''}`,
      );
    }
  }
}
