// `herd convert --to kubernetes|swarm`: the project for a cluster, as Kubernetes manifests or a
// stack file for `docker stack deploy`; what has no equivalent there is listed on stderr.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { readRawCompose } from '../../compose/raw-tree.ts';
import type { ConvertSource, K8sOptions, PullPolicy, ServiceType } from '../../convert/context.ts';
import { toKubernetes } from '../../convert/kubernetes.ts';
import { isDnsLabel } from '../../convert/names.ts';
import { manifestStream, writeManifests, yamlText } from '../../convert/output.ts';
import { ConvertReport } from '../../convert/report.ts';
import { toSwarm } from '../../convert/swarm.ts';
import { HerdError } from '../../util/errors.ts';
import { loadOptionsOf, type ProjectFlags } from '../../daemon/locate.ts';
import { loaderFor } from '../up/options.ts';

interface ConvertOptions {
  to: string;
  output: string;
  namespace?: string;
  imagePullPolicy?: string;
  serviceType: string;
  httpProbes?: boolean;
}

const TARGETS: Record<string, 'kubernetes' | 'swarm'> = {
  kubernetes: 'kubernetes',
  k8s: 'kubernetes',
  swarm: 'swarm',
};
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const SERVICE_TYPES = ['ClusterIP', 'LoadBalancer'];

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description('write the project as Kubernetes manifests or a Swarm stack file')
    .requiredOption('--to <target>', 'kubernetes (or k8s) or swarm')
    .option(
      '-o, --output <path>',
      'kubernetes: a folder, one file per object; swarm: a file; - for stdout',
      '-',
    )
    .option('--namespace <name>', 'kubernetes: the namespace of every object')
    .option('--image-pull-policy <policy>', `kubernetes: ${PULL_POLICIES.join(', ')}`)
    .option(
      '--service-type <type>',
      `kubernetes: the Service type of published ports (${SERVICE_TYPES.join(' or ')})`,
      'ClusterIP',
    )
    .option(
      '--http-probes',
      'kubernetes: a `curl -f http://localhost:PORT/PATH` healthcheck becomes an httpGet probe (the kubelet then calls the pod address, not localhost)',
    )
    .addHelpText(
      'after',
      `
Each service becomes a Deployment (a Job when it runs once, a DaemonSet for deploy.mode: global) and a
Service of its name; x-herd.autoscale an HPA, healthchecks probes, depends_on initContainers. Every key
with no equivalent on the target is listed on stderr.

Examples:
  $ herd convert --to kubernetes -o k8s/ && kubectl apply -f k8s/
  $ herd convert --to swarm -o stack.yaml && docker stack deploy -c stack.yaml myapp`,
    )
    .action(async (opts: ConvertOptions) => {
      const target = TARGETS[opts.to];
      if (!target)
        throw new HerdError(`--to ${opts.to}: expected kubernetes or swarm`, 'INVALID_ARGUMENT');
      const k8s = kubernetesOptions(opts);
      const flags = program.opts<ProjectFlags>();
      const project = await loaderFor(flags, [])();
      const raw = await readRawCompose(loadOptionsOf(flags));
      for (const w of raw.warnings) process.stderr.write(`herd: warning: ${w}\n`);
      const src: ConvertSource = { project, raw, report: new ConvertReport() };
      const written =
        target === 'kubernetes'
          ? writeKubernetes(src, k8s, opts.output)
          : writeSwarm(src, opts.output);
      for (const line of src.report.lines()) process.stderr.write(`${line}\n`);
      const dropped = src.report.droppedCount;
      process.stderr.write(
        `herd: convert: ${written}${dropped > 0 ? `; ${dropped} key(s) not converted, listed above` : ''}\n`,
      );
    });
}

function kubernetesOptions(opts: ConvertOptions): K8sOptions {
  if (opts.namespace !== undefined && !isDnsLabel(opts.namespace))
    throw new HerdError(
      `--namespace ${opts.namespace}: expected a DNS-1123 label (lowercase letters, digits and -)`,
      'INVALID_ARGUMENT',
    );
  if (opts.imagePullPolicy !== undefined && !PULL_POLICIES.includes(opts.imagePullPolicy))
    throw new HerdError(
      `--image-pull-policy ${opts.imagePullPolicy}: expected ${PULL_POLICIES.join(', ')}`,
      'INVALID_ARGUMENT',
    );
  if (!SERVICE_TYPES.includes(opts.serviceType))
    throw new HerdError(
      `--service-type ${opts.serviceType}: expected ${SERVICE_TYPES.join(' or ')}`,
      'INVALID_ARGUMENT',
    );
  return {
    namespace: opts.namespace,
    imagePullPolicy: opts.imagePullPolicy as PullPolicy | undefined,
    serviceType: opts.serviceType as ServiceType,
    httpProbes: opts.httpProbes === true,
  };
}

/** Returns what was written, for the summary line. */
function writeKubernetes(src: ConvertSource, options: K8sOptions, output: string): string {
  const manifests = toKubernetes(src, options);
  if (output === '-') {
    process.stdout.write(manifestStream(manifests));
    return `${manifests.length} objects`;
  }
  if (existsSync(output) && !statSync(output).isDirectory())
    throw new HerdError(
      `-o ${output}: a file; for Kubernetes give a folder (one file per object) or -`,
      'INVALID_ARGUMENT',
    );
  writeManifests(output, manifests);
  return `${manifests.length} objects written to ${output}`;
}

function writeSwarm(src: ConvertSource, output: string): string {
  const text = yamlText(toSwarm(src));
  if (output === '-') {
    process.stdout.write(text);
    return 'stack file';
  }
  if (existsSync(output) && statSync(output).isDirectory())
    throw new HerdError(
      `-o ${output}: a folder; for Swarm give a file name such as stack.yaml, or -`,
      'INVALID_ARGUMENT',
    );
  writeFileSync(output, text);
  return `stack file written to ${output}`;
}
