// Splits a command string into argv like a POSIX shell would (quotes, backslashes), without running one.

export class ShellWordsError extends Error {}

export function splitShellWords(input: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  while (i < input.length) {
    const c = input[i] as string;
    if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0)
        throw new ShellWordsError(`unterminated single quote in ${JSON.stringify(input)}`);
      cur += input.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < input.length) {
        const d = input[i] as string;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        // Inside double quotes a backslash only escapes these characters.
        if (d === '\\' && i + 1 < input.length && '"\\$`\n'.includes(input[i + 1] as string)) {
          cur += input[i + 1];
          i += 2;
          continue;
        }
        cur += d;
        i++;
      }
      if (!closed)
        throw new ShellWordsError(`unterminated double quote in ${JSON.stringify(input)}`);
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 < input.length) {
        if (input[i + 1] !== '\n') cur += input[i + 1];
        inWord = true;
      }
      i += 2;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
    } else {
      cur += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}
