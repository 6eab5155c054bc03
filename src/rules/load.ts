import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { compileRule, type CompiledRule } from './compile.js';
import { Library, Rule, type RuleSpec } from './schema.js';

/**
 * Reads a rule directory: `*.yaml` rules, shared lists and macros in
 * `lib/*.yaml`. Every problem names its file, line and field; a directory
 * with any problem yields no rule set at all, so a half-valid set never runs.
 */
export interface Problem {
  file: string;
  line: number;
  field: string;
  message: string;
}

export class RuleSetError extends Error {
  constructor(readonly problems: Problem[]) {
    super(`${problems.length} problem(s) in rules:\n${problems.map(formatProblem).join('\n')}`);
  }
}

export const formatProblem = (p: Problem) => `${p.file}:${p.line}: ${p.field ? `${p.field}: ` : ''}${p.message}`;

export interface RuleSet {
  rules: CompiledRule[];
  library: Library;
  /** Changes whenever any file's content changes: which rule set is live. */
  digest: string;
  dir: string;
}

interface Source {
  file: string;
  doc: Document;
  lines: LineCounter;
}

export async function loadRuleSet(dir: string): Promise<RuleSet> {
  const problems: Problem[] = [];
  const digest = createHash('sha256');
  const read = async (path: string): Promise<Source | null> => {
    const text = await readFile(path, 'utf8');
    digest.update(path).update(text);
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const file = relative(process.cwd(), path) || path;
    for (const err of doc.errors) problems.push({ file, line: lines.linePos(err.pos[0]).line, field: '', message: err.message });
    return doc.errors.length > 0 ? null : { file, doc, lines };
  };

  const library: Library = { lists: {}, macros: {} };
  for (const path of await yamlFiles(join(dir, 'lib'))) {
    const source = await read(path);
    const parsed = source && validate(source, Library, problems);
    if (!parsed) continue;
    for (const [kind, entries] of Object.entries(parsed) as Array<[keyof Library, Record<string, never>]>) {
      for (const [name, value] of Object.entries(entries)) {
        if (name in library[kind]) problems.push(at(source, [kind, name], `${kind.slice(0, -1)} "${name}" is defined twice`));
        (library[kind] as Record<string, unknown>)[name] = value;
      }
    }
  }

  const rules: CompiledRule[] = [];
  const ids = new Map<string, string>();
  for (const path of await yamlFiles(dir)) {
    const source = await read(path);
    const spec = source && validate(source, Rule, problems);
    if (!spec) continue;
    if (`${spec.id}.yaml` !== basename(path) && `${spec.id}.yml` !== basename(path)) {
      problems.push(at(source, ['id'], `must match the file name (${basename(path)})`));
    }
    if (ids.has(spec.id)) problems.push(at(source, ['id'], `rule "${spec.id}" is also defined in ${ids.get(spec.id)}`));
    ids.set(spec.id, source.file);
    const compiled = compileRule(spec, library, source.file);
    if (compiled.ok) rules.push(compiled.rule);
    else problems.push(...compiled.problems.map((p) => at(source, p.path, p.message)));
  }
  if (problems.length > 0) throw new RuleSetError(problems);
  return { rules, library, digest: digest.digest('hex').slice(0, 16), dir };
}

async function yamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && /\.ya?ml$/.test(e.name)).map((e) => join(dir, e.name)).sort();
}

function validate<T extends z.ZodType>(source: Source, schema: T, problems: Problem[]): z.infer<T> | null {
  const result = schema.safeParse(source.doc.toJS());
  if (result.success) return result.data;
  for (const issue of result.error.issues) problems.push(at(source, issue.path as (string | number)[], issue.message));
  return null;
}

/** Points at the deepest part of `path` that exists in the file (a missing field points at its parent). */
export function at(source: Source, path: (string | number)[], message: string): Problem {
  let offset = 0;
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? source.doc.contents : source.doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) {
      offset = node.range[0];
      break;
    }
  }
  return { file: source.file, line: source.lines.linePos(offset).line, field: path.join('.'), message };
}

export type { RuleSpec };
