// The task of bench/pool-piscina.mjs: nothing (plain JavaScript: piscina's worker threads load it as it is).
export default function noop() {}
