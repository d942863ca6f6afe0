// A 2-D Fourier transform of a matrix distributed by rows, the way parallel
// FFT codes do it (mpi4py-fft's "slab" decomposition): transform every local
// row, transpose the matrix with one alltoallv, transform every local row of
// the transpose (the columns of the original). The transpose is the
// communication: rank r sends rank d the block where its rows meet d's rows of
// the transpose, with counts and displacements as mpi4py's
//     comm.Alltoallv([sendbuf, (sendcounts, sdispls), MPI.DOUBLE],
//                    [recvbuf, (recvcounts, rdispls), MPI.DOUBLE])
// The matrix (ROWS x COLS complex numbers, real and imaginary parts side by
// side in a Float64Array) has a number of rows and of columns that most rank
// counts do not divide, so the counts differ from rank to rank. Rank 0
// gathers the results and checks the plain transpose (exactly) and the
// transform (to 1e-9) against serial computations.
// Run it with: npx mpi4ts run -n 3 examples/fft-transpose.ts
import * as MPI from 'mpi4ts';

const ROWS = 12;
const COLS = 9;

/** The matrix entry (i, j) as [re, im]: any deterministic values do. */
function entry(i: number, j: number): [number, number] {
  return [Math.sin(1.3 * i + 0.7 * j), Math.cos(0.1 * i * j) - 0.5];
}

/** The first index and the number of the `n` rows that `rank` of `size` owns (the first n % size one more). */
function share(n: number, rank: number, size: number): { first: number; count: number } {
  const base = Math.floor(n / size);
  const extra = n % size;
  return { first: rank * base + Math.min(rank, extra), count: base + (rank < extra ? 1 : 0) };
}

/** In-place discrete Fourier transform of each of `rows` rows of `len` complex numbers (direct sum: small rows). */
function dftRows(data: Float64Array, rows: number, len: number, scratch: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    const row = data.subarray(2 * r * len, 2 * (r + 1) * len);
    for (let k = 0; k < len; k++) {
      let re = 0;
      let im = 0;
      for (let n = 0; n < len; n++) {
        const angle = (-2 * Math.PI * k * n) / len;
        const c = Math.cos(angle);
        const s = Math.sin(angle);
        re += row[2 * n]! * c - row[2 * n + 1]! * s;
        im += row[2 * n]! * s + row[2 * n + 1]! * c;
      }
      scratch[2 * k] = re;
      scratch[2 * k + 1] = im;
    }
    row.set(scratch.subarray(0, 2 * len));
  }
}

const comm = MPI.COMM_WORLD;
const { rank, size } = comm;
const myRows = share(ROWS, rank, size); // my rows of the matrix
const myCols = share(COLS, rank, size); // my rows of the transpose: columns of the matrix
const rowShares = Array.from({ length: size }, (_, r) => share(ROWS, r, size));
const colShares = Array.from({ length: size }, (_, r) => share(COLS, r, size));

// Counts and displacements in doubles (two per complex number): to rank d goes
// my rows x d's columns; from rank s comes s's rows x my columns.
const sendcounts = colShares.map((c) => 2 * myRows.count * c.count);
const recvcounts = rowShares.map((r) => 2 * r.count * myCols.count);
const prefix = (counts: number[]): number[] => counts.map((_, i) => counts.slice(0, i).reduce((a, b) => a + b, 0));
const sdispls = prefix(sendcounts);
const rdispls = prefix(recvcounts);

const local = new Float64Array(2 * myRows.count * COLS);
const packed = new Float64Array(local.length);
const arrived = new Float64Array(2 * myCols.count * ROWS);
const transposed = new Float64Array(arrived.length);

/** transposed = the transpose's rows myCols.first.., from my rows in `local`. */
async function transpose(): Promise<void> {
  // Pack: for each destination d, its columns in order, each one's entries in my rows.
  for (let d = 0; d < size; d++) {
    let at = sdispls[d]!;
    for (let j = colShares[d]!.first; j < colShares[d]!.first + colShares[d]!.count; j++) {
      for (let i = 0; i < myRows.count; i++) {
        packed[at++] = local[2 * (i * COLS + j)]!;
        packed[at++] = local[2 * (i * COLS + j) + 1]!;
      }
    }
  }
  await comm.alltoallv(packed, sendcounts, sdispls, arrived, recvcounts, rdispls);
  // Unpack: the block from s holds, for each of my columns, s's rows of it.
  for (let s = 0; s < size; s++) {
    let at = rdispls[s]!;
    for (let c = 0; c < myCols.count; c++) {
      for (let i = rowShares[s]!.first; i < rowShares[s]!.first + rowShares[s]!.count; i++) {
        transposed[2 * (c * ROWS + i)] = arrived[at++]!;
        transposed[2 * (c * ROWS + i) + 1] = arrived[at++]!;
      }
    }
  }
}

/** The whole transpose (COLS x ROWS) at rank 0, from every rank's rows of it. */
async function gatherTranspose(): Promise<Float64Array | null> {
  const whole = rank === 0 ? new Float64Array(2 * ROWS * COLS) : null;
  const counts = colShares.map((c) => 2 * c.count * ROWS);
  await comm.gathervInto(transposed, whole, rank === 0 ? counts : null, rank === 0 ? prefix(counts) : null, 0);
  return whole;
}

function fillLocal(): void {
  for (let i = 0; i < myRows.count; i++) {
    for (let j = 0; j < COLS; j++) local.set(entry(myRows.first + i, j), 2 * (i * COLS + j));
  }
}

const started = MPI.wtime();
// 1. The plain transpose.
fillLocal();
await transpose();
const plain = await gatherTranspose();
// 2. The 2-D transform: rows, transpose, rows of the transpose.
fillLocal();
const scratch = new Float64Array(2 * Math.max(ROWS, COLS));
dftRows(local, myRows.count, COLS, scratch);
await transpose();
dftRows(transposed, myCols.count, ROWS, scratch);
const spectrum = await gatherTranspose();
const elapsed = MPI.wtime() - started;

if (rank === 0) {
  const problems: string[] = [];
  for (let j = 0; j < COLS; j++) {
    for (let i = 0; i < ROWS; i++) {
      const [re, im] = entry(i, j);
      if (plain![2 * (j * ROWS + i)] !== re || plain![2 * (j * ROWS + i) + 1] !== im) problems.push(`transpose (${j}, ${i}) is not entry (${i}, ${j})`);
    }
  }
  // Serial reference: the 2-D DFT by its definition, X(k, l) = sum over (i, j) of a(i, j) e^(-2 pi i (ik/ROWS + jl/COLS)).
  let worst = 0;
  for (let l = 0; l < COLS; l++) {
    for (let k = 0; k < ROWS; k++) {
      let re = 0;
      let im = 0;
      for (let i = 0; i < ROWS; i++) {
        for (let j = 0; j < COLS; j++) {
          const [a, b] = entry(i, j);
          const angle = -2 * Math.PI * ((i * k) / ROWS + (j * l) / COLS);
          re += a * Math.cos(angle) - b * Math.sin(angle);
          im += a * Math.sin(angle) + b * Math.cos(angle);
        }
      }
      worst = Math.max(worst, Math.abs(spectrum![2 * (l * ROWS + k)]! - re), Math.abs(spectrum![2 * (l * ROWS + k) + 1]! - im));
    }
  }
  if (worst > 1e-9) problems.push(`the transform differs from the serial DFT by ${worst} (allowed: 1e-9)`);
  if (problems.length > 0) {
    console.error(`fft-transpose: wrong result: ${problems.slice(0, 5).join('; ')}`);
    process.exitCode = 1;
  } else {
    console.log(`fft-transpose ${ROWS}x${COLS} on ${size} rank(s), rows per rank ${rowShares.map((r) => r.count).join('/')}: ` +
      `transpose exact, 2-D DFT within ${worst.toExponential(1)} of serial, ${elapsed.toFixed(4)} s`);
  }
}
