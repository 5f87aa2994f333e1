// Validates Kubernetes objects offline against the official schemas, as `kubectl apply` with strict
// field validation would: kubernetes-models' validators check types, formats and required fields,
// and the TypeScript compiler, given each object as a literal of the model's interface (IDeployment,
// IService, …), refuses every field the schema does not have, at any depth.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHECK_FILE = path.join(ROOT, 'test', 'helpers', '__k8s_schema_check__.ts');

interface K8sLike {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string };
}

/** Every problem of every object, as `Kind/name: problem`; empty when all are valid. */
export async function schemaProblems(objects: K8sLike[]): Promise<string[]> {
  const problems: string[] = [];
  for (const o of objects) {
    const where = `${o.kind}/${o.metadata?.name}`;
    let mod: Record<string, new (data: unknown) => { validate(): void }>;
    try {
      mod = await import(`kubernetes-models/${o.apiVersion}/${o.kind}`);
    } catch {
      problems.push(`${where}: ${o.apiVersion} ${o.kind} is not a built-in Kubernetes kind`);
      continue;
    }
    try {
      new (mod[o.kind] as new (data: unknown) => { validate(): void })(o).validate();
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
    }
  }
  return [...problems, ...unknownFields(objects)];
}

/** The TypeScript check: one `const oN: IKind = {...}` per object. */
function unknownFields(objects: K8sLike[]): string[] {
  const imports = objects.map(
    (o, i) =>
      `import type { I${o.kind} as T${i} } from 'kubernetes-models/${o.apiVersion}/${o.kind}';`,
  );
  const consts = objects.map(
    (o, i) => `export const o${i}: T${i} = ${JSON.stringify(o, null, 1)};`,
  );
  const source = [...imports, ...consts].join('\n');
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (file, lang, ...rest) =>
    path.resolve(file) === CHECK_FILE
      ? ts.createSourceFile(file, source, lang)
      : read(file, lang, ...rest);
  const exists = host.fileExists.bind(host);
  host.fileExists = (file) => path.resolve(file) === CHECK_FILE || exists(file);
  const program = ts.createProgram([CHECK_FILE], options, host);
  const lines = source.split('\n');
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(CHECK_FILE)).map((d) => {
    let line =
      d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
    // The object a diagnostic is about: the nearest `export const oN` at or above its line.
    let m: RegExpExecArray | null = null;
    for (; line >= 0 && !m; line--) m = /^export const o(\d+):/.exec(lines[line] ?? '');
    const o = m ? objects[Number(m[1])] : undefined;
    const where = o ? `${o.kind}/${o.metadata?.name}` : 'manifests';
    return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}
