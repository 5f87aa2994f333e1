// Per-request tracing for finding where a request's time goes (HERD_PROXY_TRACE=<file>): one line
// per finished request or connection, `<end epoch ms> <pid> <replica> <ms> <errors so far>`,
// buffered and appended every 200 ms. Off (and free) unless the variable is set.
import { appendFileSync } from 'node:fs';

type Tracer = (replica: string, ms: number, errors: number) => void;

function makeTracer(file: string): Tracer {
  let lines: string[] = [];
  const flush = (): void => {
    if (lines.length === 0) return;
    const text = lines.join('');
    lines = [];
    try {
      appendFileSync(file, text);
    } catch {
      // tracing must never hurt serving
    }
  };
  setInterval(flush, 200).unref();
  process.on('exit', flush);
  return (replica, ms, errors) => {
    lines.push(`${Date.now()} ${process.pid} ${replica} ${ms.toFixed(1)} ${errors}\n`);
  };
}

const file = process.env.HERD_PROXY_TRACE;
/** Set when HERD_PROXY_TRACE names a file. */
export const traceRequest: Tracer | undefined = file ? makeTracer(file) : undefined;
