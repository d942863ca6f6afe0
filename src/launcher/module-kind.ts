/**
 * Whether a TypeScript program can run as the module kind its package gives
 * it, checked once per job before any rank starts.
 *
 * A `.ts` file is CommonJS unless the nearest package.json says
 * `"type": "module"` (npm 11's `npm init -y` writes `"type": "commonjs"`).
 * tsx then compiles it to CommonJS with esbuild, and an mpi4ts program fails
 * there in every rank with words that do not say why: top-level await is
 * refused ("not supported with the cjs output format"), and
 * `import ... from 'mpi4ts'` becomes `require('mpi4ts')` (ERR_MPI4TS_REQUIRE_ESM
 * since src/require.cts, ERR_PACKAGE_PATH_NOT_EXPORTED before). Other imports
 * and exports compile to CommonJS and work, so they are let through.
 *
 * The check asks esbuild itself (tsx's compiler, so it sees exactly what tsx
 * would): no scanner of our own can tell `await` in a nested block at top
 * level from `await` in an arrow function or method as surely. esbuild
 * costs 200-300 ms (its binary starts; more on a loaded machine), paid once
 * per job by a `.ts`/`.tsx` program in a CommonJS package that says `await`
 * or `mpi4ts` at all; `.mts`, `.cts`, `.js` and programs in `"type": "module"`
 * packages cost one walk up to their package.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join } from 'node:path';
import { UsageError } from '../base/index.js';

/** The extensions whose module kind the package decides and tsx compiles. */
const PACKAGE_DECIDES = ['.ts', '.tsx'];

/** The package.json Node and tsx consult for a file's module kind: the nearest one above it, or null. */
export function nearestPackageJson(file: string): string | null {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

/** Whether the package.json at `path` makes its `.ts` files ES modules (a broken file does not). */
function declaresModule(path: string): boolean {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { type?: unknown }).type === 'module';
  } catch {
    return false;
  }
}

/** What in a program cannot run as CommonJS, with the 1-based line where esbuild knows it. */
export interface EsmOnlyUse {
  what: 'top-level await' | 'an import of mpi4ts';
  line: number | null;
}

/** The part of esbuild this module uses (esbuild is tsx's dependency, not ours: no type import). */
export interface Esbuild {
  transformSync(code: string, options: { loader: 'ts' | 'tsx'; format: 'cjs'; logLevel: 'silent' }): { code: string };
}

interface EsbuildFailure {
  errors?: { text: string; location: { line: number } | null }[];
}

/** esbuild as tsx resolves it, or null where it cannot be loaded (then tsx cannot run either, and says so). */
function loadEsbuild(): Esbuild | null {
  try {
    return createRequire(import.meta.resolve('tsx'))('esbuild') as Esbuild;
  } catch {
    return null;
  }
}

/**
 * What in `code` (TypeScript, `loader` syntax) fails once compiled to
 * CommonJS: top-level await, or a static import of mpi4ts (esbuild turns it
 * into `require("mpi4ts")`; type-only imports are erased and pass). Null when
 * nothing does, or when esbuild finds another error (tsx reports that one).
 */
export function esmOnlyUse(code: string, loader: 'ts' | 'tsx', esbuild?: Esbuild): EsmOnlyUse | null {
  // Without either word there is nothing to find: spare the esbuild start.
  if (!/\bawait\b|mpi4ts/.test(code)) return null;
  const compiler = esbuild ?? loadEsbuild();
  if (compiler === null) return null;
  let compiled: string;
  try {
    compiled = compiler.transformSync(code, { loader, format: 'cjs', logLevel: 'silent' }).code;
  } catch (err) {
    const topLevelAwait = (err as EsbuildFailure).errors?.find((e) => /top-level await/i.test(e.text));
    return topLevelAwait === undefined ? null : { what: 'top-level await', line: topLevelAwait.location?.line ?? null };
  }
  const requireOfMpi4ts = /\brequire\("mpi4ts(?:\/[^"]*)?"\)/;
  if (!requireOfMpi4ts.test(compiled)) return null;
  const lineInSource = code.split('\n').findIndex((l) => /['"]mpi4ts(?:\/[^'"]*)?['"]/.test(l));
  return { what: 'an import of mpi4ts', line: lineInSource < 0 ? null : lineInSource + 1 };
}

/**
 * Refuses (UsageError) a `.ts`/`.tsx` program that its package makes
 * CommonJS but that needs to be an ES module; `script` is the name the user
 * gave, `path` where it is.
 */
export function checkModuleKind(script: string, path: string): void {
  const ext = extname(path);
  if (!PACKAGE_DECIDES.includes(ext)) return;
  const packageJson = nearestPackageJson(path);
  if (packageJson !== null && declaresModule(packageJson)) return;
  const use = esmOnlyUse(readFileSync(path, 'utf8'), ext === '.tsx' ? 'tsx' : 'ts');
  if (use === null) return;
  const where = use.line === null ? '' : ` at line ${use.line}`;
  const why = packageJson === null
    ? 'there is no package.json above it, so it runs as CommonJS'
    : `${packageJson} has no "type": "module", so it runs as CommonJS`;
  const fix = packageJson === null
    ? `create a package.json with "type": "module" in ${dirname(path)}`
    : `add "type": "module" to ${packageJson}`;
  // .mts cannot hold JSX, so a .tsx program has only the package.json fix.
  const rename = ext === '.ts' ? `, or rename it to ${basename(path, ext)}.mts` : '';
  throw new UsageError(
    `program "${script}" needs to be an ES module (${use.what}${where}), but ${why}, where that fails; ${fix}${rename}`,
  );
}
