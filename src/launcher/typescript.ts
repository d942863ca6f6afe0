/**
 * Whether a .ts program can run on Node alone (its own type stripping,
 * Node 22.18+ and 24) or needs tsx, decided once per job by the launcher
 * (DESIGN.md "TypeScript programs"). tsx loads esbuild in every rank, which
 * costs each rank about 0.3 s of CPU at start-up; Node's stripping about
 * 0.07 s (`npm run bench:compare -- --startup`, DESIGN.md has the figures). But stripping only blanks the types out, and a program
 * tsx runs can fail under it, so Node alone is chosen only when every local
 * module the program imports passes what Node requires:
 *
 * - strip-only syntax: no enum, namespace, parameter property (Node says so
 *   itself: `stripTypeScriptTypes` throws);
 * - ES modules: a .mts file, or a .ts file in a package of "type": "module"
 *   (elsewhere Node re-parses and warns in every rank, or reads CommonJS);
 * - relative imports that name the file as it is (`./util.ts`): Node maps no
 *   `./util.js` to util.ts and adds no extension, as tsx does;
 * - no imported name that only types use: Node keeps
 *   `import { Options } from './x.ts'` and fails at link time when Options is
 *   an interface (only `import type` is erased), where tsx drops it. A name
 *   that no code refers to once the types are blanked out is such a name
 *   (or an unused import, which tsx drops too);
 * - no tsconfig "paths", which tsx honours and Node does not.
 *
 * Bare imports (packages) are not followed: Node resolves them itself.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';

export interface TypeScriptChoice {
  /** True: run the program with Node alone; false: through tsx. */
  native: boolean;
  /** Why, for `MPI4TS_DEBUG` and errors. */
  why: string;
}

/** What the walk needs from its host (tests pass a stand-in on a Node without one). */
export interface StripSupport {
  /** Node's own stripper (types blanked out, positions kept), or null where this Node has none. */
  strip: ((code: string) => string) | null;
}

/** More local modules than this and the walk stops: tsx it is. */
const MAX_MODULES = 500;

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);

/** This Node's support: stripping where `process.features.typescript` says Node strips types by default. */
export function nodeStripSupport(): StripSupport {
  const features = process.features as { typescript?: string | false };
  const stripper = (nodeModule as { stripTypeScriptTypes?: (code: string, options?: { mode?: string }) => string }).stripTypeScriptTypes;
  return { strip: features.typescript && typeof stripper === 'function' ? (code) => quietly(() => stripper(code, { mode: 'strip' })) : null };
}

/** Runs `f` without the ExperimentalWarning Node prints on the first use of its stripper: the user asked for none of it. */
function quietly<T>(f: () => T): T {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if (type !== 'ExperimentalWarning') (emit as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return f();
  } finally {
    process.emitWarning = emit;
  }
}

/** Whether the program at `entry` (absolute) runs on Node alone; `mode` is MPI4TS_TYPESCRIPT. */
export function chooseTypeScript(entry: string, mode: 'auto' | 'node' | 'tsx', support: StripSupport = nodeStripSupport()): TypeScriptChoice {
  if (mode === 'tsx') return { native: false, why: 'MPI4TS_TYPESCRIPT=tsx' };
  if (mode === 'node') return { native: true, why: 'MPI4TS_TYPESCRIPT=node' };
  if (support.strip === null) return { native: false, why: `Node ${process.version} does not strip types by default (22.18+ and 24 do)` };
  const problem = firstProblem(entry, support.strip);
  return problem === null ? { native: true, why: 'every local module strips to valid ES module code' } : { native: false, why: problem };
}

/** The first reason the program needs tsx, or null when Node alone can run it. */
function firstProblem(entry: string, strip: (code: string) => string): string | null {
  const queue = [entry];
  const seen = new Set(queue);
  while (queue.length > 0) {
    if (seen.size > MAX_MODULES) return `more than ${MAX_MODULES} local modules`;
    const file = queue.shift()!;
    const ext = extname(file);
    if (ext === '.tsx') return `${file} is TSX`;
    if (!TS_EXTENSIONS.has(ext) && ext !== '.js' && ext !== '.mjs') continue;
    if (ext === '.ts' && packageTypeOf(file) !== 'module') return `${file} is not in a package of "type": "module"`;
    if (ext === '.cts') return `${file} is CommonJS`;
    if (ext === '.ts' && hasTsconfigPaths(file)) return `the tsconfig.json over ${file} maps import paths ("paths")`;
    const source = readFileSync(file, 'utf8');
    let code = source;
    if (TS_EXTENSIONS.has(ext)) {
      try {
        code = strip(source);
      } catch (err) {
        return `${file}: ${(err as Error).message.split('\n')[0]}`;
      }
      const unused = typeOnlyImport(code);
      if (unused !== null) return `${file} imports ${unused}, which only types use (tsx drops it); write "import type" for it`;
    }
    for (const specifier of specifiersOf(code)) {
      if (!specifier.startsWith('./') && !specifier.startsWith('../') && !specifier.startsWith('/')) continue;
      const target = resolve(dirname(file), specifier.replace(/[?#].*$/, ''));
      if (!isFile(target)) return `${file} imports "${specifier}", which names no file (Node adds no extension and maps no .js to .ts)`;
      if (!seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  return null;
}

/** Every module specifier of static imports, re-exports and dynamic imports with a literal. */
export function specifiersOf(code: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?(?:[A-Za-z_$][\w$]*\s*,?\s*)?(?:\{[^}]*\}|\*(?:\s*as\s+[A-Za-z_$][\w$]*)?)?\s*from\s*(['"])([^'"\n]+)\1/g,
    /\bimport\s*(['"])([^'"\n]+)\1/g,
    /\bimport\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of code.matchAll(pattern)) found.push(match[2]!);
  return found;
}

interface ImportClause {
  specifier: string;
  /** The local names it binds, each with the name it takes from the module ("default" for a default import). */
  bindings: { local: string; imported: string }[];
  start: number;
  end: number;
}

/** Every static import statement with bindings; namespace imports (`* as ns`) bind a whole module and are left out. */
export function importClauses(code: string): ImportClause[] {
  const clauses: ImportClause[] = [];
  const pattern = /\bimport\s+(?:([A-Za-z_$][\w$]*)\s*,?\s*)?(\{[^}]*\}|\*\s*as\s+[A-Za-z_$][\w$]*)?\s*from\s*(['"])([^'"\n]+)\3/g;
  for (const match of code.matchAll(pattern)) {
    const bindings: { local: string; imported: string }[] = [];
    if (match[1] !== undefined && match[1] !== 'type') bindings.push({ local: match[1], imported: 'default' });
    const clause = match[2];
    if (clause !== undefined && !clause.startsWith('*')) {
      for (const part of clause.slice(1, -1).split(',')) {
        const words = part.trim().split(/\s+as\s+/).map((w) => w.trim());
        if (words[0] === '' || words[0]!.startsWith('type ')) continue;
        bindings.push({ imported: words[0]!.replace(/^["']|["']$/g, ''), local: words[1] ?? words[0]! });
      }
    }
    if (bindings.length > 0) clauses.push({ specifier: match[4]!, bindings, start: match.index, end: match.index + match[0].length });
  }
  return clauses;
}

/**
 * A name that stripped code imports and never refers to (only types did,
 * and they are blanked out), as `"Name" from "./x.ts"`; or null.
 */
export function typeOnlyImport(stripped: string): string | null {
  const clauses = importClauses(stripped);
  if (clauses.length === 0) return null;
  let body = '';
  let at = 0;
  for (const clause of clauses) {
    body += stripped.slice(at, clause.start);
    at = clause.end;
  }
  body = blankCommentsAndStrings(body + stripped.slice(at));
  for (const { specifier, bindings } of clauses) {
    for (const { local, imported } of bindings) {
      const escaped = local.replace(/\$/g, '\\$');
      // A use of the binding: not part of a longer name, not a property (`a.name`), though a spread (`...name`) is.
      if (!new RegExp(`(?<![\\w$])(?<!(?<!\\.\\.)\\.)${escaped}(?![\\w$])`).test(body)) {
        return `${imported === 'default' ? 'the default export' : `"${imported}"`} from "${specifier}"`;
      }
    }
  }
  return null;
}

/**
 * JavaScript with comments and the text of strings, templates and regular
 * expressions replaced by spaces (a template's `${}` code is kept): what is
 * left of names is code. A guess at a regular expression that is wrong
 * blanks too much, which only makes a used import look unused: tsx then.
 */
export function blankCommentsAndStrings(code: string): string {
  const out = code.split('');
  const braces: number[] = [];
  let i = 0;
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to && k < out.length; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  const skipQuoted = (quote: string, from: number): number => {
    let k = from + 1;
    while (k < code.length && code[k] !== quote && code[k] !== '\n') k += code[k] === '\\' ? 2 : 1;
    return k + 1;
  };
  /** From a template's opening backtick or closing brace of `${}`: to the next `${` (its code is scanned as code) or the end. */
  const skipTemplate = (from: number): number => {
    let k = from + 1;
    while (k < code.length && code[k] !== '`') {
      if (code[k] === '\\') k += 2;
      else if (code[k] === '$' && code[k + 1] === '{') {
        blank(from + 1, k);
        braces.push(1);
        return k + 2;
      } else k++;
    }
    blank(from + 1, k);
    return k + 1;
  };
  let last = '';
  while (i < code.length) {
    const c = code[i]!;
    const next = code[i + 1];
    if (c === '/' && next === '/') {
      const end = code.indexOf('\n', i);
      const to = end < 0 ? code.length : end;
      blank(i, to);
      i = to;
    } else if (c === '/' && next === '*') {
      const end = code.indexOf('*/', i + 2);
      const to = end < 0 ? code.length : end + 2;
      blank(i, to);
      i = to;
    } else if (c === "'" || c === '"') {
      const to = skipQuoted(c, i);
      blank(i + 1, to - 1);
      i = to;
      last = c;
    } else if (c === '`') {
      i = skipTemplate(i);
      last = '`';
    } else if (c === '/' && (last === '' || '(,=:[!&|?{};+-*%<>~^'.includes(last))) {
      // A regular expression where an operand starts.
      let k = i + 1;
      let inClass = false;
      while (k < code.length && code[k] !== '\n' && (inClass || code[k] !== '/')) {
        if (code[k] === '\\') k++;
        else if (code[k] === '[') inClass = true;
        else if (code[k] === ']') inClass = false;
        k++;
      }
      blank(i + 1, k);
      i = k + 1;
      last = '/';
    } else {
      if (c === '{' && braces.length > 0) braces[braces.length - 1]!++;
      if (c === '}' && braces.length > 0 && --braces[braces.length - 1]! === 0) {
        braces.pop();
        i = skipTemplate(i);
        last = '`';
        continue;
      }
      if (!/\s/.test(c)) last = /[\w$]/.test(c) ? 'a' : c;
      i++;
    }
  }
  return out.join('');
}

/** The "type" of the nearest package.json above `file` ("commonjs" when it has none). */
function packageTypeOf(file: string): string {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        const type = (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown }).type;
        return typeof type === 'string' ? type : 'commonjs';
      } catch {
        return 'commonjs';
      }
    }
    if (dirname(dir) === dir) return 'commonjs';
  }
}

/** Whether the nearest tsconfig.json above `file` sets compilerOptions.paths (tsx maps them; Node does not). */
function hasTsconfigPaths(file: string): boolean {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const config = join(dir, 'tsconfig.json');
    if (existsSync(config)) return /"paths"\s*:/.test(readFileSync(config, 'utf8'));
    if (existsSync(join(dir, 'package.json')) || dirname(dir) === dir) return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

