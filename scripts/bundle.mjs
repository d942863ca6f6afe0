// Bundles dist/index.js, what every rank imports as 'mpi4ts', into one file
// (after tsc has written dist/ and the declarations). Why: a rank spent about
// 100 ms linking mpi4ts's 83 ES modules and 48 ms loading the one bundle
// (Node 24, compile cache warm, `await import()` timed in a fresh process on
// the 2-core VM), and each rank of a job pays it. The tools (the launcher,
// bench, doctor) keep tsc's separate modules: they run in processes of their
// own, so no process holds two copies of a class.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

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
  external: ['koffi'],
  // Class and function names stay as written: error names, stack traces and util.inspect read them.
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [versionInline],
});
