// .dockerignore matching, as the docker CLI applies it to a build context: one pattern a line,
// `#` comments, `!` re-includes, `*`/`?` within one path segment, `**` across segments, and a
// pattern that matches a folder also excludes everything below it.

export interface IgnoreRule {
  negate: boolean;
  regex: RegExp;
}

export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    let line = rawLine.trim();
    if (!line || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1).trim();
    // Patterns are relative to the context root, written with forward slashes.
    line = line.replace(/\\/g, '/').replace(/^\/+/, '').replace(/\/+$/, '');
    line = normalizeSegments(line);
    if (!line) continue;
    rules.push({ negate, regex: globToRegex(line) });
  }
  return rules;
}

/** Whether `relPath` (forward slashes, relative to the context) is excluded; the last matching rule wins. */
export function isIgnored(rules: IgnoreRule[], relPath: string): boolean {
  let ignored = false;
  for (const rule of rules) if (rule.regex.test(relPath)) ignored = !rule.negate;
  return ignored;
}

function normalizeSegments(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return out.join('/');
}

function globToRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        // `**/` matches zero or more whole folders; a trailing `**` matches anything.
        i++;
        if (pattern[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) re += '\\[';
      else {
        const body = pattern
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  // A match on a folder covers its contents too.
  return new RegExp(`^${re}(?:/.*)?$`);
}
