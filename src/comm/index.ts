// cart.js first: CartComm extends Comm, and comm.js creates CartComms, so
// comm.js must finish loading inside cart.js's import of it.
export { CartComm, computeDims } from './cart.js';
export { Comm } from './comm.js';
export type { CommInit } from './comm.js';
export { initWorld } from './world.js';
export type { World } from './world.js';
