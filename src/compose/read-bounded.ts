// Reads a text file the loader was pointed at (a compose file, an `include`d or `extends`ed one,
// an env file) without trusting its size: a path naming /dev/zero or a huge log would otherwise
// be read whole into memory before anything could refuse it.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Far above any real compose or env file (the largest public ones are well under 1 MiB). */
export const MAX_LOADED_FILE_BYTES = 8 * 1024 * 1024;

export class FileTooLargeError extends Error {
  constructor(file: string, limit: number) {
    super(`${file} is larger than ${limit / (1024 * 1024)} MiB; herd does not read it`);
  }
}

/** The file's text (UTF-8), or FileTooLargeError past `limit` bytes; other errors are fs errors.
 * Synchronous: the files are small, and env files and `extends` are read synchronously. */
export function readTextBounded(file: string, limit = MAX_LOADED_FILE_BYTES): string {
  const fd = openSync(file, 'r');
  try {
    const st = fstatSync(fd);
    if (st.isFile() && st.size > limit) throw new FileTooLargeError(file, limit);
    // Sizes of devices and pipes say nothing: read at most limit + 1 bytes to know.
    const buf = Buffer.alloc(Math.min(limit + 1, st.isFile() ? st.size + 1 : limit + 1));
    let used = 0;
    for (;;) {
      const n = readSync(fd, buf, used, buf.length - used, null);
      if (n === 0) break;
      used += n;
      if (used > limit) throw new FileTooLargeError(file, limit);
      if (used === buf.length) break;
    }
    return buf.subarray(0, used).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
