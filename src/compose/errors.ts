// Problems found while loading compose files, collected so the user sees all of them at once.
import { HerdError } from '../util/errors.ts';

/** Where a value came from: file and 1-based line/column. */
export interface Pos {
  file: string;
  line: number;
  col: number;
}

export interface Problem {
  pos?: Pos;
  /** Dotted key path such as `services.web.healthcheck.interval`; empty for file-level problems. */
  path: string;
  message: string;
}

export function formatPos(pos: Pos | undefined): string {
  return pos ? `${pos.file}:${pos.line}:${pos.col}` : '';
}

export function formatProblem(p: Problem): string {
  const where = formatPos(p.pos);
  const parts = [where, p.path, p.message].filter((s) => s !== '');
  return parts.join(': ');
}

/** Thrown when a compose project cannot be loaded; the message lists every problem, one per line. */
export class ComposeError extends HerdError {
  constructor(readonly problems: Problem[]) {
    super(ComposeError.render(problems), 'COMPOSE_INVALID');
    this.name = 'ComposeError';
  }

  private static render(problems: Problem[]): string {
    const lines = problems.map(formatProblem);
    if (lines.length === 1) return lines[0] ?? '';
    return `${lines.length} problems in the compose file(s):\n  ${lines.join('\n  ')}`;
  }
}

/** Accumulates errors and warnings during one load. Warnings are de-duplicated. */
export class Diagnostics {
  readonly errors: Problem[] = [];
  private readonly warningSet = new Set<string>();

  error(pos: Pos | undefined, path: string, message: string): void {
    this.errors.push({ pos, path, message });
  }

  warn(message: string): void {
    this.warningSet.add(message);
  }

  get warnings(): string[] {
    return [...this.warningSet];
  }

  /** Throws a ComposeError when any error was recorded. */
  throwIfErrors(): void {
    if (this.errors.length > 0) throw new ComposeError(this.errors);
  }
}
