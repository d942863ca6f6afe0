/**
 * The layers of DESIGN.md "Layers", checked on the source: every import
 * between two folders of src/ must be an edge the design allows, must go
 * through the folder's index.ts (its public face), and no chain of runtime
 * imports may come back to where it started (an import cycle makes one
 * module see another half-loaded, as comm.ts and cart.ts once did).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const SRC = new URL('../src/', import.meta.url).pathname;

/** What each folder may import besides itself. `index` is src/index.ts, the public API. */
export const ALLOWED: Record<string, readonly string[]> = {
  base: [],
  wire: ['base'],
  codec: ['base'],
  transport: ['base', 'wire'],
  runtime: ['base', 'wire'],
  p2p: ['base', 'codec', 'transport'],
  coll: ['base', 'codec', 'p2p'],
  comm: ['base', 'codec', 'transport', 'runtime', 'p2p', 'coll'],
  pool: ['base', 'codec', 'p2p', 'comm'],
  index: ['base', 'codec', 'p2p', 'coll', 'comm', 'pool'],
  launcher: ['base', 'wire'],
  bench: ['base', 'coll', 'p2p', 'comm', 'index'],
  doctor: ['base', 'wire', 'launcher'],
  cli: ['base', 'launcher', 'bench', 'doctor', 'index'],
};

interface ImportEdge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Relative imports and re-exports of one file (static and dynamic), resolved to src-relative .ts paths. */
function importsOf(file: string): ImportEdge[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const edges: ImportEdge[] = [];
  const statement = /\b(import|export)\s+(type\s+)?(?:[^'";]*?\bfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]/g;
  for (const m of text.matchAll(statement)) edges.push(edge(file, m[3]!, m[2] !== undefined));
  for (const m of text.matchAll(/\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) edges.push(edge(file, m[1]!, false));
  return edges;
}

function edge(file: string, spec: string, typeOnly: boolean): ImportEdge {
  const target = normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts');
  return { from: relative(SRC, file), to: relative(SRC, target), typeOnly };
}

/** The layer of a src-relative path: its first folder, or `index` for src/index.ts. */
function layerOf(path: string): string {
  return path.includes('/') ? path.split('/')[0]! : path.replace(/\.ts$/, '');
}

const files = sourceFiles(SRC);
const edges = files.flatMap(importsOf);

test('the import scan sees the code: hundreds of edges, every layer of the design present', () => {
  assert.ok(edges.length > 200, `only ${edges.length} imports found`);
  const layers = new Set(files.map((f) => layerOf(relative(SRC, f))));
  for (const layer of Object.keys(ALLOWED)) assert.ok(layers.has(layer), `no folder for layer ${layer}`);
  for (const layer of layers) assert.ok(layer in ALLOWED, `src/${layer} is not a layer of the design: add it to ALLOWED and DESIGN.md`);
});

test('every import between folders is an edge the design allows (nothing imports upward)', () => {
  const wrong = edges.filter((e) => {
    const from = layerOf(e.from);
    const to = layerOf(e.to);
    return from !== to && !(ALLOWED[from] ?? []).includes(to);
  }).map((e) => `${e.from} -> ${e.to}`);
  assert.deepEqual(wrong, []);
});

test('imports between folders go through the folder\'s index.ts', () => {
  const wrong = edges.filter((e) => layerOf(e.from) !== layerOf(e.to) && e.to.includes('/') && !e.to.endsWith('/index.ts'))
    .map((e) => `${e.from} -> ${e.to}`);
  assert.deepEqual(wrong, []);
});

/** Cycles of runtime imports (type-only imports are erased, so they cannot make a module see another half-loaded). */
function cyclesOf(all: readonly ImportEdge[]): string[] {
  const graph = new Map<string, string[]>();
  for (const e of all) if (!e.typeOnly) graph.set(e.from, [...(graph.get(e.from) ?? []), e.to]);
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (node: string, path: string[]): void => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'open') {
      cycles.push([...path.slice(path.indexOf(node)), node].join(' -> '));
      return;
    }
    state.set(node, 'open');
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    state.set(node, 'done');
  };
  for (const node of graph.keys()) visit(node, []);
  return cycles;
}

test('no cycle of runtime imports between modules (type-only imports aside)', () => {
  assert.deepEqual(cyclesOf(edges), []);
});

test('the checker itself: an upward edge, a deep import and a cycle are each caught', () => {
  const fake = (from: string, to: string): ImportEdge => ({ from, to, typeOnly: false });
  const upward = [fake('transport/a.ts', 'p2p/index.ts')].filter((e) => !(ALLOWED[layerOf(e.from)] ?? []).includes(layerOf(e.to)));
  assert.equal(upward.length, 1);
  const deep = [fake('p2p/a.ts', 'transport/frame.ts')].filter((e) => !e.to.endsWith('/index.ts'));
  assert.equal(deep.length, 1);
  assert.deepEqual(cyclesOf([fake('comm/comm.ts', 'comm/cart.ts'), fake('comm/cart.ts', 'comm/comm.ts')]), ['comm/comm.ts -> comm/cart.ts -> comm/comm.ts']);
  assert.deepEqual(cyclesOf([fake('a.ts', 'b.ts'), { from: 'b.ts', to: 'a.ts', typeOnly: true }]), []);
  assert.ok(importsOf(join(SRC, 'index.ts')).some((e) => e.to === 'comm/index.ts'));
});
