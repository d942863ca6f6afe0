/**
 * The examples that port mpi4py's demos (issue 16): each checks its own
 * result and exits non-zero with the reason when it is wrong; these tests run
 * each at several sizes, check its result line and that it leaves no process.
 */
import { test, countedTest, counts } from './counts.js';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { example, mpirun, strays, type JobResult } from './helpers.js';

const SIZES = counts([1, 2, 3, 4, 7]);

function passed(r: JobResult): void {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /wrong result/);
}

/** Escape times of the mandelbrot demo's picture (150x100, maxit 127), computed here once. */
function mandelbrotInSet(): number {
  const [w, h, maxit] = [150, 100, 127];
  let inSet = 0;
  for (let row = 0; row < h; row++) {
    const y = -1 + row * (2 / h);
    for (let j = 0; j < w; j++) {
      const x = -2 + j * (3 / w);
      let [zr, zi, it] = [0, 0, 0];
      while (zr * zr + zi * zi < 4 && it < maxit) {
        [zr, zi] = [zr * zr - zi * zi + x, 2 * zr * zi + y];
        it++;
      }
      if (it === maxit) inSet++;
    }
  }
  return inSet;
}

for (const np of SIZES) {
  countedTest(`mandelbrot with ${np} rank(s): bcastInto, gathervInto with counts and displs, a PGM image`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpi4ts-mandelbrot-'));
    try {
      const path = join(dir, 'm.pgm');
      const r = await mpirun(np, example('mandelbrot.ts'), { args: [path] });
      passed(r);
      assert.match(r.stdout, new RegExp(`^wall clock time: mean \\d+\\.\\d{4} s, min \\d+\\.\\d{4} s, max \\d+\\.\\d{4} s over ${np} rank\\(s\\)$`, 'm'));
      const line = /^mandelbrot 150x100, maxit 127, on (\d+) rank\(s\): (\d+) points in the set, rows checked against serial, image in (.+)$/m.exec(r.stdout);
      assert.ok(line !== null, r.stdout);
      assert.equal(Number(line[1]), np);
      assert.equal(Number(line[2]), mandelbrotInSet());
      assert.equal(line[3], path);
      const image = readFileSync(path);
      const header = 'P5\n150 100\n127\n';
      assert.equal(image.subarray(0, header.length).toString('ascii'), header);
      assert.equal(image.length, header.length + 150 * 100);
      // The set's points are the brightest (maxit) pixels.
      assert.equal(image.subarray(header.length).filter((v) => v === 127).length, mandelbrotInSet());
      assert.deepEqual(await strays(r.marker), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const np of SIZES) {
  countedTest(`matvec with ${np} rank(s): allgatherInto drives a power iteration, equal to the serial one to 1e-12`, async () => {
    const r = await mpirun(np, example('matvec.ts'));
    passed(r);
    const n = 40 * np;
    const line = new RegExp(`^matvec ${n}x${n} on ${np} rank\\(s\\), 30 power-iteration steps in \\d+\\.\\d{4} s: ` +
      `largest eigenvalue (\\d+\\.\\d{10}), largest difference from serial (\\S+)\n$`).exec(r.stdout);
    assert.ok(line !== null, r.stdout);
    assert.ok(Number(line[2]) <= 1e-12);
  });
}

for (const np of SIZES) {
  countedTest(`jacobi with ${np} rank(s): sendrecvInto halos, allreduceInto with LAND, identical to serial`, async () => {
    const r = await mpirun(np, example('jacobi.ts'), { args: ['20'] });
    passed(r);
    const line = /^jacobi 20x20 on (\d+) rank\(s\): converged in (\d+) steps \(serial: (\d+)\) in \d+\.\d{3} s, centre (\S+), identical to the serial grid\n$/.exec(r.stdout);
    assert.ok(line !== null, r.stdout);
    assert.equal(Number(line[1]), np);
    assert.equal(line[2], line[3]);
    assert.ok(Number(line[4]) < 1e-3 && Number(line[4]) > 0);
  });
}

const jacobiRefusals: [string, RegExp][] = [
  ['2', /jacobi: 3 ranks for 2 columns; run it on at most 2 ranks, or give a larger n/],
  ['twenty', /jacobi: n = "twenty" is not allowed: n, the inner points per side, must be a whole number from 2 to 1000 \(default 20\)/],
];
for (const [arg, message] of jacobiRefusals) {
  test(`jacobi ${arg} on 3 ranks: refused with a message, exit code 2`, async () => {
    const r = await mpirun(3, example('jacobi.ts'), { args: [arg] });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
  });
}

for (const np of SIZES) {
  countedTest(`termination with ${np} rank(s): issend + ibarrier + testany, every message exactly once`, async () => {
    const r = await mpirun(np, example('termination.ts'));
    passed(r);
    const line = /^termination on (\d+) rank\(s\): (\d+) messages sent with issend, (\d+) received, each exactly once; rank 0 polled (\d+) times before ibarrier completed\n$/.exec(r.stdout);
    assert.ok(line !== null, r.stdout);
    assert.equal(Number(line[1]), np);
    assert.equal(line[2], line[3]);
    assert.ok(Number(line[2]) >= np, 'every rank sends at least one message');
    assert.deepEqual(await strays(r.marker), []);
  });
}

for (const np of SIZES) {
  countedTest(`fft-transpose with ${np} rank(s): alltoallv with uneven counts, the serial transpose and DFT`, async () => {
    const r = await mpirun(np, example('fft-transpose.ts'));
    passed(r);
    const rows = Array.from({ length: np }, (_, k) => Math.floor(12 / np) + (k < 12 % np ? 1 : 0)).join('/');
    const line = new RegExp(`^fft-transpose 12x9 on ${np} rank\\(s\\), rows per rank ${rows}: transpose exact, ` +
      `2-D DFT within (\\S+) of serial, \\d+\\.\\d{4} s\n$`).exec(r.stdout);
    assert.ok(line !== null, r.stdout);
    assert.ok(Number(line[1]) <= 1e-9);
  });
}
