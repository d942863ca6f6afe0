// A task module that fails as it loads (test/programs/pool.ts badInput): every task of it fails with this error.
throw new Error('this task module cannot load');
