// An in-memory runtime for unit-testing the engine: replicas are objects whose exits, OOM kills,
// health results, slow starts and listening are scripted by the test, on a FakeClock, so restart,
// backoff, health, dependency and rollout logic run in milliseconds with no process and no sleep.
import type {
  ExitInfo,
  OutputStream,
  ReplicaHandle,
  ReplicaSpec,
  Runtime,
} from '../../src/runtime/types.ts';
import type { HealthWatchFactory } from '../../src/engine/health-watch.ts';
import type { ListenWatchFactory } from '../../src/engine/listening.ts';
import { FakeClock } from '../../src/util/clock.ts';

export { FakeClock };

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGTERM: 15,
};

/** What the next start of a service does. */
export interface StartScript {
  /** The replica never runs (command not found, …). */
  startError?: string;
  /** The runtime takes this long (on the fake clock) to start it. */
  startDelayMs?: number;
  /** It ignores its stop signal, so only SIGKILL after the grace period ends it. */
  ignoresStop?: boolean;
  /** It accepts connections only when the test calls listen(). */
  listensLater?: boolean;
}

export class MemoryReplica implements ReplicaHandle {
  readonly id: string;
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  readonly startError?: string;
  /** Signals the engine sent, in order. */
  readonly signals: NodeJS.Signals[] = [];
  listening: boolean;
  health?: (status: 'healthy' | 'unhealthy', output?: string) => void;
  private outputs: ((stream: OutputStream, line: string) => void)[] = [];
  private listenWaiters: (() => void)[] = [];
  private finish!: (exit: ExitInfo) => void;
  private ended?: ExitInfo;

  constructor(
    readonly spec: ReplicaSpec,
    pid: number,
    private readonly clock: FakeClock,
    private readonly script: StartScript,
  ) {
    this.id = `mem-${pid}`;
    this.pid = pid;
    this.listening = !script.listensLater;
    this.exited = new Promise((resolve) => (this.finish = resolve));
    if (script.startError !== undefined) {
      this.startError = script.startError;
      this.end({ exitCode: 127, startError: script.startError });
    }
  }

  get running(): boolean {
    return this.ended === undefined;
  }

  onOutput(listener: (stream: OutputStream, line: string) => void): void {
    this.outputs.push(listener);
  }

  print(line: string, stream: OutputStream = 'stdout'): void {
    for (const l of this.outputs) l(stream, line);
  }

  /** The replica exits by itself. */
  exit(exitCode: number, extra: Partial<ExitInfo> = {}): void {
    this.end({ exitCode, ...extra });
  }

  /** The kernel's OOM killer ends it. */
  oomKill(): void {
    this.end({ exitCode: 137, signal: 'SIGKILL', oomKilled: true });
  }

  listen(): void {
    this.listening = true;
    for (const w of this.listenWaiters.splice(0)) w();
  }

  whenListening(): Promise<void> {
    if (this.listening) return Promise.resolve();
    return new Promise((resolve) => this.listenWaiters.push(resolve));
  }

  stop(graceMs?: number): Promise<ExitInfo> {
    this.signals.push(this.spec.stopSignal);
    if (!this.script.ignoresStop) this.kill(this.spec.stopSignal);
    else {
      this.clock.setTimeout(() => this.kill('SIGKILL'), graceMs ?? this.spec.stopGracePeriodMs);
    }
    return this.exited;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.signals.at(-1) !== signal) this.signals.push(signal);
    if (signal === 'SIGKILL' || !this.script.ignoresStop) {
      this.end({ exitCode: 128 + (SIGNAL_NUMBERS[signal] ?? 15), signal });
    }
  }

  private end(exit: ExitInfo): void {
    if (this.ended) return;
    this.ended = exit;
    this.finish(exit);
  }
}

export class MemoryRuntime implements Runtime {
  readonly kind = 'process' as const;
  /** Every replica started, in order. */
  readonly started: MemoryReplica[] = [];
  /** Replicas an earlier herd left running, by name: adopted on the first start of the slot. */
  readonly leftRunning = new Map<string, MemoryReplica>();
  private readonly scripts = new Map<string, StartScript[]>();
  private nextPid = 1000;

  constructor(readonly clock: FakeClock) {}

  /** Scripts the next starts of `service`, one entry per start. */
  script(service: string, ...starts: StartScript[]): void {
    this.scripts.set(service, [...(this.scripts.get(service) ?? []), ...starts]);
  }

  async start(spec: ReplicaSpec): Promise<ReplicaHandle> {
    const script = this.scripts.get(spec.service)?.shift() ?? {};
    if (script.startDelayMs) {
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, script.startDelayMs!));
    }
    const replica = new MemoryReplica(spec, this.nextPid++, this.clock, script);
    this.started.push(replica);
    return replica;
  }

  async adopt(spec: ReplicaSpec): Promise<ReplicaHandle | undefined> {
    const found = this.leftRunning.get(spec.name);
    this.leftRunning.delete(spec.name);
    return found?.running ? found : undefined;
  }

  /** The running replica with this name (`<project>-<service>-<n>`, or its `-next` successor). */
  replica(name: string): MemoryReplica {
    const found = this.started.filter((r) => r.spec.name === name && r.running).at(-1);
    if (!found) throw new Error(`no running replica ${name} (started: ${this.names()})`);
    return found;
  }

  names(): string {
    return this.started.map((r) => `${r.spec.name}${r.running ? '' : '(x)'}`).join(', ');
  }

  running(service?: string): MemoryReplica[] {
    return this.started.filter((r) => r.running && (!service || r.spec.service === service));
  }

  /** Health results come from the test (MemoryReplica.health), not from probes. */
  readonly healthWatch: HealthWatchFactory = ({ spec, onChange }) => {
    const replica = this.started.filter((r) => r.spec.name === spec.name).at(-1);
    if (replica) replica.health = onChange;
    return {
      stop: () => {
        if (replica) replica.health = undefined;
      },
      log: () => [],
    };
  };

  /** Listening is what the test says (MemoryReplica.listen). */
  readonly listenWatch: ListenWatchFactory = async ({ port, gone }) => {
    const replica = this.started.filter((r) => r.spec.port === port && r.running).at(-1);
    if (!replica) return false;
    await replica.whenListening();
    return !gone();
  };
}

/** Lets the engine's promise chains (and the port probes of its plans) run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Settles until `done()` holds; fails after a bounded number of rounds. */
export async function until(done: () => boolean, what: string, rounds = 2000): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (done()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`timed out waiting until ${what}`);
}
