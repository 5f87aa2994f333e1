// How long this process's event loop was held up: the longest a 5 ms timer fired late while
// `run` ran (tests and benches of work that must yield, e.g. output tails).
export async function longestLag(run: () => Promise<void>): Promise<number> {
  let maxLag = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    maxLag = Math.max(maxLag, now - last - 5);
    last = now;
  }, 5);
  try {
    await run();
    // One more tick, so a stall at the very end is counted too.
    await new Promise((r) => setTimeout(r, 10));
  } finally {
    clearInterval(ticker);
  }
  return maxLag;
}
