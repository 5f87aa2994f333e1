// Reading a unit file as systemd does, for the tests of `herd systemd`: the INI layout
// (systemd.syntax(7)), specifiers (%%), and the splitting of ExecStart=/Environment= into words
// with their quotes and C escapes (systemd.service(5) "Command lines"). Only what a unit herd
// writes can hold is accepted; anything else throws, so a unit herd should not write fails.

export type Unit = Map<string, [key: string, value: string][]>;

/** Sections → their key/value lines, in order. Comments (# ;) and blank lines skipped. */
export function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: [string, string][] | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    if (line.endsWith('\\')) throw new Error(`line ${i + 1}: a continuation line: ${raw}`);
    const header = /^\[([^[\]]+)\]$/.exec(line);
    if (header) {
      section = [];
      unit.set(header[1]!, section);
      return;
    }
    const kv = /^([A-Za-z0-9-]+)\s*=\s*(.*)$/.exec(line);
    if (!kv) throw new Error(`line ${i + 1}: not Key=Value: ${raw}`);
    if (!section) throw new Error(`line ${i + 1}: outside a section: ${raw}`);
    section.push([kv[1]!, kv[2]!]);
  });
  return unit;
}

/** The values of `key` in `section`. */
export function values(unit: Unit, section: string, key: string): string[] {
  return (unit.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);
}

/** `%%` → `%`; any other specifier is one herd never writes. */
export function specifiers(value: string): string {
  return value.replace(/%(.?)/g, (_m, c: string) => {
    if (c === '%') return '%';
    throw new Error(`specifier %${c} in ${value}`);
  });
}

const ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
  "'": "'",
  s: ' ',
};

/** Words separated by whitespace; "…" and '…' group, backslash escapes (C style) everywhere. */
export function splitWords(value: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (i < value.length && /\s/.test(value[i]!)) i++;
    if (i >= value.length) break;
    let word = '';
    let quote: string | undefined;
    for (; i < value.length; i++) {
      const c = value[i]!;
      if (c === '\\') {
        const e = value[++i];
        if (e === undefined || !(e in ESCAPES)) throw new Error(`bad escape \\${e} in ${value}`);
        word += ESCAPES[e];
      } else if (quote !== undefined) {
        if (c === quote) quote = undefined;
        else word += c;
      } else if (c === '"' || c === "'") quote = c;
      else if (/\s/.test(c)) break;
      else word += c;
    }
    if (quote !== undefined) throw new Error(`unbalanced quoting in ${value}`);
    words.push(word);
  }
  return words;
}

/** ExecStart=/ExecStop= as the argv systemd runs: specifiers, words, then `$$` → `$` (a lone `$`
 * would expand a variable: herd never writes one). No prefix (@ - : + !) is expected. */
export function execArgv(value: string): string[] {
  const argv = splitWords(specifiers(value)).map((w) => {
    if (/\$(?!\$)/.test(w.replace(/\$\$/g, ''))) throw new Error(`variable expansion in ${w}`);
    return w.replace(/\$\$/g, '$');
  });
  if (/^[@\-:+!]/.test(argv[0] ?? '')) throw new Error(`a command prefix in ${value}`);
  return argv;
}

/** Environment= lines as the variables they set (no `$` expansion there). */
export function environment(lines: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of lines)
    for (const word of splitWords(specifiers(line))) {
      const eq = word.indexOf('=');
      if (eq <= 0) throw new Error(`not VAR=value: ${word}`);
      env[word.slice(0, eq)] = word.slice(eq + 1);
    }
  return env;
}
