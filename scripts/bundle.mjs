// Bundles dist/index.js, what every rank imports as 'mpi4ts', into one file
// (after tsc has written dist/ and the declarations). Why: a rank spent about
// 100 ms linking mpi4ts's 83 ES modules and 48 ms loading the one bundle
// (Node 24, compile cache warm, `await import()` timed in a fresh process on
// the 2-core VM), and each rank of a job pays it. The tools (the launcher,
// bench, doctor) keep tsc's separate modules: they run in processes of their
// own, so no process holds two copies of a class.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

/** src/base/version.ts reads package.json relative to its own file; inside the bundle that path is wrong, so the bundle gets the version itself. */
const versionInline = {
  name: 'version-inline',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]base[\\/]version\.ts$/ }, () => ({
      contents: `export const VERSION: string = ${JSON.stringify(version)};\n`,
      loader: 'ts',
    }));
  },
};

await build({
  entryPoints: [new URL('src/index.ts', root).pathname],
  outfile: new URL('dist/index.js', root).pathname,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // koffi is optional and loaded with createRequire at run time (base/native.ts): never bundled.
  // tsx is loaded only by a spawned pool worker that meets a .ts task module (pool/worker.ts).
  external: ['koffi', 'tsx', 'tsx/*'],
  // No keepNames: it wraps every function and closure the bundle creates in
  // __name(), an Object.defineProperty per closure made, which cost a
  // one-rank barrier 1.9 us instead of 0.33, two ranks 3.8 instead of 2.1
  // (`mpi4ts run -n N bench/coll-mpi4ts.ts barrier`; a CPU profile: most of
  // the time in __name and its defineProperty). What keepNames did for classes is done below
  // (classNamesAsWritten); the error classes set `name` in their constructors;
  // an internal function whose name collides across modules shows as
  // `describe2` in a stack trace.
  keepNames: false,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [versionInline],
});
classNamesAsWritten(new URL('dist/index.js', root));

/**
 * esbuild writes a class that refers to itself as `var Comm = class _Comm {`,
 * which names it `_Comm` (util.inspect and stack traces would say so). The
 * inner name is esbuild's own, so it can take the class's name back
 * everywhere; test/package.test.ts checks every exported class's name.
 */
function classNamesAsWritten(file) {
  let text = readFileSync(file, 'utf8');
  for (const [, name] of text.matchAll(/^var ([A-Za-z$][\w$]*) = class _\1\b/gm)) {
    text = text.replaceAll(new RegExp(`(?<![\\w$.])_${name.replace(/\$/g, '\\$')}(?![\\w$])`, 'g'), name);
  }
  writeFileSync(file, text);
}
