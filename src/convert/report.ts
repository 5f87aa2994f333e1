// What a conversion could not carry over, and what it changed on the way: every field without an
// equivalent on the target is listed here (never dropped in silence) and printed on stderr.

export type FindingKind = 'not converted' | 'note';

export interface Finding {
  kind: FindingKind;
  /** Where in the compose file, as a key path: `services.web.cap_add`. */
  at: string;
  message: string;
}

export class ConvertReport {
  readonly findings: Finding[] = [];

  /** `at` has no equivalent on the target and is left out; `why` says what it would take. */
  dropped(at: string, why: string): void {
    this.add('not converted', at, why);
  }

  /** `at` was converted, with a caveat the user must know about. */
  note(at: string, text: string): void {
    this.add('note', at, text);
  }

  get droppedCount(): number {
    return this.findings.filter((f) => f.kind === 'not converted').length;
  }

  /** One line per finding, in the order they were found. */
  lines(): string[] {
    return this.findings.map((f) => `herd: convert: ${f.at}: ${f.kind}: ${f.message}`);
  }

  private add(kind: FindingKind, at: string, message: string): void {
    if (!this.findings.some((f) => f.kind === kind && f.at === at && f.message === message))
      this.findings.push({ kind, at, message });
  }
}
