/**
 * What `require('mpi4ts')` gets: the package's `require` condition points
 * here, so that a CommonJS program hears what to do instead of Node's
 * ERR_PACKAGE_PATH_NOT_EXPORTED. mpi4ts cannot be required: importing it
 * starts the runtime with a top-level await (src/index.ts), which even
 * Node 22's require(esm) refuses.
 *
 * Its own small class, not one of src/base/errors.ts: that module is ES, and
 * this file must load where ES modules cannot be required (Node 20).
 */
export {};

class RequireEsmError extends Error {
  readonly code = 'ERR_MPI4TS_REQUIRE_ESM';
  override readonly name = 'RequireEsmError';
}

throw new RequireEsmError(
  'mpi4ts is an ES module and cannot be loaded with require(): use `import * as MPI from \'mpi4ts\'` ' +
    'in a .mjs/.mts file or set "type": "module" in your package.json; ' +
    'from CommonJS, `const MPI = await import(\'mpi4ts\')` inside an async function',
);
