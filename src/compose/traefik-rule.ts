// Traefik's router labels, as seed 002 writes them: `traefik.http.routers.<name>.rule` with Host()
// and PathPrefix() joined by && and ||, and `traefik.http.services.<name>.loadbalancer.server.port`.
// Other matchers cannot be honoured by herd's ingress: they are warned about and left out, so the
// route is broader than the rule, never silently narrower.
import { parseHostPath, type RouteSpec } from './route-spec.ts';

type Expr =
  | { kind: 'match'; name: string; args: string[] }
  | { kind: 'and' | 'or'; left: Expr; right: Expr }
  | { kind: 'not'; expr: Expr };

/** A conjunction of matchers: the hosts and paths it allows (empty: any). */
interface Conjunction {
  hosts: string[][];
  paths: string[][];
  ignored: string[];
}

export function traefikRoutes(labels: Record<string, string>): {
  specs: RouteSpec[];
  problems: string[];
  warnings: string[];
} {
  const out = { specs: [] as RouteSpec[], problems: [] as string[], warnings: [] as string[] };
  if (labels['traefik.enable'] === 'false') return out;
  const port = Object.entries(labels).find(([k]) =>
    /^traefik\.http\.services\.[^.]+\.loadbalancer\.server\.port$/.test(k),
  )?.[1];
  for (const [key, rule] of Object.entries(labels)) {
    const m = /^traefik\.http\.routers\.([^.]+)\.rule$/.exec(key);
    if (!m) continue;
    const source = `label ${key}`;
    let expr: Expr;
    try {
      expr = new RuleParser(rule).parse();
    } catch (err) {
      out.problems.push(`${source}: ${(err as Error).message}`);
      continue;
    }
    for (const conj of disjuncts(expr)) {
      for (const what of conj.ignored)
        out.warnings.push(`${source}: ${what} is not supported by herd's ingress and is ignored`);
      for (const spec of expand(conj, source, out.problems)) {
        if (port !== undefined && /^\d+$/.test(port)) spec.port = Number(port);
        out.specs.push(spec);
      }
    }
  }
  return out;
}

/** The rule as an OR of ANDs. */
function disjuncts(e: Expr): Conjunction[] {
  switch (e.kind) {
    case 'or':
      return [...disjuncts(e.left), ...disjuncts(e.right)];
    case 'and': {
      const out: Conjunction[] = [];
      for (const a of disjuncts(e.left))
        for (const b of disjuncts(e.right))
          out.push({
            hosts: [...a.hosts, ...b.hosts],
            paths: [...a.paths, ...b.paths],
            ignored: [...a.ignored, ...b.ignored],
          });
      return out;
    }
    case 'not':
      return [{ hosts: [], paths: [], ignored: ['a negated matcher (!)'] }];
    case 'match':
      if (e.name === 'Host') return [{ hosts: [e.args], paths: [], ignored: [] }];
      if (e.name === 'PathPrefix') return [{ hosts: [], paths: [e.args], ignored: [] }];
      if (e.name === 'Path')
        return [{ hosts: [], paths: [e.args], ignored: ['Path() (matched as a prefix)'] }];
      return [{ hosts: [], paths: [], ignored: [`${e.name}()`] }];
  }
}

/** Host and path pairs a conjunction allows: each Host() is a set, several must agree. */
function expand(c: Conjunction, source: string, problems: string[]): RouteSpec[] {
  const hosts = intersect(c.hosts.map((h) => h.map((x) => x.toLowerCase())));
  const paths = intersect(c.paths);
  if (hosts?.length === 0 || paths?.length === 0) {
    problems.push(`${source}: the rule's Host() or PathPrefix() matchers contradict each other`);
    return [];
  }
  const out: RouteSpec[] = [];
  for (const host of hosts ?? ['']) {
    for (const path of paths ?? ['']) {
      const spec = parseHostPath(`${host}${path}`, source, false);
      if (typeof spec === 'string') problems.push(`${source}: ${spec}`);
      else out.push(spec);
    }
  }
  return out;
}

/** The values every set allows; undefined when there is no set (no constraint). */
function intersect(sets: string[][]): string[] | undefined {
  if (sets.length === 0) return undefined;
  return sets.reduce((acc, s) => acc.filter((x) => s.includes(x)));
}

/** A small recursive-descent parser of Traefik's rule syntax (v2 and v3 share this part). */
class RuleParser {
  private at = 0;

  constructor(private readonly text: string) {}

  parse(): Expr {
    const e = this.or();
    this.space();
    if (this.at < this.text.length) this.fail('unexpected text');
    return e;
  }

  private or(): Expr {
    let left = this.and();
    while (this.eat('||')) left = { kind: 'or', left, right: this.and() };
    return left;
  }

  private and(): Expr {
    let left = this.unary();
    while (this.eat('&&')) left = { kind: 'and', left, right: this.unary() };
    return left;
  }

  private unary(): Expr {
    if (this.eat('!')) return { kind: 'not', expr: this.unary() };
    if (this.eat('(')) {
      const e = this.or();
      if (!this.eat(')')) this.fail('expected )');
      return e;
    }
    this.space();
    const name = /^[A-Za-z]+/.exec(this.text.slice(this.at))?.[0];
    if (!name) this.fail('expected a matcher such as Host(`example.com`)');
    this.at += name!.length;
    if (!this.eat('(')) this.fail(`expected ( after ${name}`);
    const args: string[] = [];
    do args.push(this.quoted());
    while (this.eat(','));
    if (!this.eat(')')) this.fail(`expected ) to close ${name}(`);
    return { kind: 'match', name: name!, args };
  }

  private quoted(): string {
    this.space();
    const q = this.text[this.at];
    if (q !== '`' && q !== '"') this.fail('expected a value in backquotes');
    const end = this.text.indexOf(q!, this.at + 1);
    if (end < 0) this.fail('unterminated value');
    const v = this.text.slice(this.at + 1, end);
    this.at = end + 1;
    return v;
  }

  private eat(token: string): boolean {
    this.space();
    if (!this.text.startsWith(token, this.at)) return false;
    this.at += token.length;
    return true;
  }

  private space(): void {
    while (this.text[this.at] === ' ' || this.text[this.at] === '\t') this.at++;
  }

  private fail(why: string): never {
    throw new Error(`${why} at column ${this.at + 1} of the rule`);
  }
}
