// Sizes and percentages as `docker stats` prints them.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 0 → "0B", 1536 → "1.5KiB", 12_582_912 → "12MiB". */
export function formatBytes(n: number): string {
  let v = Math.max(0, n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const text = u === 0 || v >= 100 ? String(Math.round(v)) : String(Math.round(v * 10) / 10);
  return `${text}${UNITS[u]}`;
}

export function formatPercent(p: number): string {
  return `${p.toFixed(2)}%`;
}
