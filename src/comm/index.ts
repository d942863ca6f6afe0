export { Comm } from './comm.js';
export type { CommInit } from './comm.js';
export { initWorld } from './world.js';
export type { World } from './world.js';
