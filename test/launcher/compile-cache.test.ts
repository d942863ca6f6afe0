import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { compileCacheEnv } from '../../src/launcher/compile-cache.js';
import { readOptions } from '../../src/base/options.js';

test('ranks get a compile cache folder of this user\'s, unless the user set one or turned it off', () => {
  const env = compileCacheEnv(readOptions({}));
  assert.match(env.NODE_COMPILE_CACHE!, new RegExp(`^${tmpdir()}/mpi4ts-compile-cache-\\d+$`));
  assert.deepEqual(compileCacheEnv(readOptions({ NODE_COMPILE_CACHE: '/mine' })), {});
  assert.deepEqual(compileCacheEnv(readOptions({ MPI4TS_COMPILE_CACHE: '0' })), {});
  assert.deepEqual(compileCacheEnv(readOptions({ NODE_DISABLE_COMPILE_CACHE: '1' })), {});
  assert.throws(() => readOptions({ MPI4TS_COMPILE_CACHE: 'yes' }), /MPI4TS_COMPILE_CACHE="yes" must be 0 \(off\) or 1 \(on, the default\)/);
  assert.throws(() => readOptions({ MPI4TS_TYPESCRIPT: 'swc' }), /MPI4TS_TYPESCRIPT="swc"/);
});
