// Small runtime schemas for JSON that crosses a process boundary (the control API's replies): a
// shape says what a value must look like and names the first place where it does not, so a
// reader can refuse a reply it does not understand instead of crashing on it later. Extra fields
// are allowed (a newer daemon may send more); missing or mistyped ones the reader uses are not.

/** Returns undefined when `value` fits, else what is wrong with it, starting with `at`. */
export type Shape<T> = ((value: unknown, at: string) => string | undefined) & { readonly __t?: T };

export type ShapeOf<S> = S extends Shape<infer T> ? T : never;

const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v);

function primitive<T>(name: string, test: (v: unknown) => boolean): Shape<T> {
  return (v, at) => (test(v) ? undefined : `${at} is ${kind(v)}, not ${name}`);
}

export const str = primitive<string>('a string', (v) => typeof v === 'string');
export const num = primitive<number>('a number', (v) => typeof v === 'number' && !isNaN(v));
export const int = primitive<number>('a whole number', (v) => Number.isInteger(v));
export const bool = primitive<boolean>('true or false', (v) => typeof v === 'boolean');
/** Anything (a field the reader passes on without looking into). */
export const any: Shape<unknown> = () => undefined;

export function literal<T extends string>(...values: T[]): Shape<T> {
  return (v, at) =>
    values.includes(v as T)
      ? undefined
      : `${at} is ${JSON.stringify(v) ?? 'missing'}, not one of ${values.join(', ')}`;
}

export function optional<T>(s: Shape<T>): Shape<T | undefined> {
  return (v, at) => (v === undefined ? undefined : s(v, at));
}

export function list<T>(item: Shape<T>): Shape<T[]> {
  return (v, at) => {
    if (!Array.isArray(v)) return `${at} is ${kind(v)}, not a list`;
    for (let i = 0; i < v.length; i++) {
      const bad = item(v[i], `${at}[${i}]`);
      if (bad) return bad;
    }
    return undefined;
  };
}

export function dict<T>(value: Shape<T>): Shape<Record<string, T>> {
  return (v, at) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      return `${at} is ${kind(v)}, not an object`;
    for (const [k, x] of Object.entries(v)) {
      const bad = value(x, `${at}.${k}`);
      if (bad) return bad;
    }
    return undefined;
  };
}

type Fields<T> = { [K in keyof T]-?: Shape<T[K]> };

/** An object with (at least) these fields. */
export function object<T>(fields: Fields<T>): Shape<T> {
  const entries = Object.entries(fields) as [string, Shape<unknown>][];
  return (v, at) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      return `${at} is ${kind(v)}, not an object`;
    for (const [k, s] of entries) {
      const bad = s((v as Record<string, unknown>)[k], `${at}.${k}`);
      if (bad) return bad.includes(' is undefined,') ? `${at}.${k} is missing` : bad;
    }
    return undefined;
  };
}

/** The first of `shapes` that fits (for unions told apart by a field, e.g. `type`). */
export function either<T>(...shapes: Shape<T>[]): Shape<T> {
  return (v, at) => {
    let first: string | undefined;
    for (const s of shapes) {
      const bad = s(v, at);
      if (!bad) return undefined;
      first ??= bad;
    }
    return first;
  };
}
