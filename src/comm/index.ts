/**
 * The communicator layer's face: Comm and CartComm (comm.ts), Intercomm
 * (intercomm.ts), computeDims (cart.ts), a spawned process's parent
 * (spawn.ts), and the world they run in (world.ts). create.ts, context.ts and validate.ts are private to the folder. No module here imports another in a
 * cycle, so any of them may be loaded first (test/comm/cycle.test.ts).
 *
 * What is not implemented yet is listed, by MPI 4.1 section, in the header of
 * the module it would belong to: comm.ts (the face), create.ts (constructors),
 * intercomm.ts (intercommunicators), spawn.ts (dynamic processes), cart.ts (topologies), context.ts and validate.ts.
 */
export { CartComm, Comm } from './comm.js';
export { Intercomm } from './intercomm.js';
export { Group, GROUP_EMPTY } from './group.js';
export type { RankRange } from './group.js';
export type { CommInit } from './create.js';
export { computeDims } from './cart.js';
export { initWorld } from './world.js';
export { parentIntercomm } from './spawn.js';
export type { SpawnOptions } from './spawn.js';
export type { World, CommWorld, CommEngine } from './world.js';
