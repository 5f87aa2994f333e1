// A healthcheck as Kubernetes probes. Compose's one check does two jobs in herd: an unhealthy
// replica leaves the balancer (readiness) and is restarted (liveness, unless heal_unhealthy is off).
// `start_period` becomes a startupProbe: the other two wait for it, and it allows
// start_period / start_interval failures before the usual retries count.
import type { Healthcheck, HealthTest, Service } from '../compose/model.ts';
import { splitShellWords } from '../compose/shellwords.ts';
import { at, type K8sContext } from './context.ts';
import type { HttpGetAction, Probe } from './k8s-types.ts';
import { seconds } from './names.ts';

export interface Probes {
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
}

export function probesFor(ctx: K8sContext, service: Service): Probes {
  const hc = service.healthcheck;
  if (!hc) return {};
  const where = at(service.name, 'healthcheck');
  if (!hc.test) {
    ctx.report.dropped(
      `${where}.test`,
      "no test: Kubernetes does not run the image's HEALTHCHECK; write the test in the file",
    );
    return {};
  }
  for (const [key, ms] of [
    ['interval', hc.intervalMs],
    ['timeout', hc.timeoutMs],
  ] as const)
    if (ms % 1000 !== 0)
      ctx.report.note(
        `${where}.${key}`,
        `rounded up to ${seconds(ms)}s (probes count whole seconds)`,
      );
  const handler = probeHandler(ctx, hc.test);
  const timing = {
    periodSeconds: seconds(hc.intervalMs),
    timeoutSeconds: seconds(hc.timeoutMs),
    failureThreshold: Math.max(1, hc.retries),
  };
  const out: Probes = { readinessProbe: { ...handler, ...timing } };
  if (service.herd.healUnhealthy) out.livenessProbe = { ...handler, ...timing };
  if (hc.startPeriodMs > 0) out.startupProbe = startupProbe(hc, handler);
  return out;
}

function startupProbe(hc: Healthcheck, handler: Pick<Probe, 'exec' | 'httpGet'>): Probe {
  const period = seconds(hc.startIntervalMs);
  return {
    ...handler,
    periodSeconds: period,
    timeoutSeconds: seconds(hc.timeoutMs),
    failureThreshold: Math.ceil(seconds(hc.startPeriodMs, 0) / period) + Math.max(1, hc.retries),
  };
}

function probeHandler(ctx: K8sContext, test: HealthTest): Pick<Probe, 'exec' | 'httpGet'> {
  const argv = test.kind === 'exec' ? test.argv : ['/bin/sh', '-c', test.command];
  if (ctx.options.httpProbes) {
    const http = httpCheck(test);
    if (http) return { httpGet: http };
  }
  return { exec: { command: argv } };
}

const URL_RE = /^(https?):\/\/(?:localhost|127\.0\.0\.1|\[::1\]|0\.0\.0\.0)(?::(\d+))?(\/[^\s]*)?$/;
/** Flags of curl and wget that change nothing an httpGet probe would not do. */
const QUIET_FLAGS = new Set([
  '-f',
  '--fail',
  '-s',
  '--silent',
  '-S',
  '--show-error',
  '-fs',
  '-sf',
  '-fsS',
  '-sSf',
  '-fSs',
  '-q',
  '--spider',
  '-O-',
  '-qO-',
  '-O',
  '/dev/null',
  '-o',
  '-qO',
  '--quiet',
]);
/** What the shell form may add around the command without changing its meaning. */
const SHELL_TAIL = ['||', 'exit', '1'];

/** `curl -f http://localhost:5000/health` (or `wget -q --spider …`), with nothing else that
 * matters, as an httpGet action; undefined for any other test. */
export function httpCheck(test: HealthTest): HttpGetAction | undefined {
  let words: string[];
  try {
    words = test.kind === 'exec' ? test.argv : splitShellWords(test.command);
  } catch {
    return undefined;
  }
  if (test.kind === 'shell' && words.slice(-3).join(' ') === SHELL_TAIL.join(' '))
    words = words.slice(0, -3);
  const [tool, ...rest] = words;
  if (tool !== 'curl' && tool !== 'wget') return undefined;
  const urls = rest.filter((w) => !QUIET_FLAGS.has(w));
  if (urls.length !== 1) return undefined;
  // curl without -f succeeds on a 500 as well; such a check only tests that something answers.
  if (tool === 'curl' && !rest.some((w) => /^-[a-zA-Z]*f/.test(w) || w === '--fail'))
    return undefined;
  const m = URL_RE.exec(urls[0] as string);
  if (!m) return undefined;
  const scheme = m[1] === 'https' ? 'HTTPS' : 'HTTP';
  const port = m[2] ? Number(m[2]) : scheme === 'HTTPS' ? 443 : 80;
  return { path: m[3] ?? '/', port, ...(scheme === 'HTTPS' ? { scheme } : {}) };
}
