/**
 * Structured clone silently turns a class instance into a plain object (its
 * class, methods and private fields are lost) and fails late on functions
 * deep inside a value. We refuse such values up front, naming where in the
 * value the problem is, so nothing half-right is ever sent.
 */

const allowedPrototypes = new Set<unknown>([
  Object.prototype, null, Array.prototype, Map.prototype, Set.prototype, Date.prototype, RegExp.prototype,
  Error.prototype, EvalError.prototype, RangeError.prototype, ReferenceError.prototype, SyntaxError.prototype,
  TypeError.prototype, URIError.prototype, ArrayBuffer.prototype, DataView.prototype, Boolean.prototype,
  Number.prototype, String.prototype, BigInt.prototype,
]);

function className(value: object): string {
  const ctor = (value as { constructor?: { name?: string } }).constructor;
  return ctor?.name !== undefined && ctor.name !== '' ? ctor.name : 'an anonymous class';
}

/** Returns why `value` cannot travel intact, or null when it can. */
export function cloneProblem(value: unknown): string | null {
  const seen = new Set<object>();
  const stack: [unknown, string][] = [[value, 'the value']];
  while (stack.length > 0) {
    const [item, path] = stack.pop()!;
    if (typeof item === 'function') return `${path} is a function (${item.name || 'anonymous'}), which cannot be cloned`;
    if (typeof item === 'symbol') return `${path} is a symbol (${String(item)}), which cannot be cloned`;
    if (typeof item !== 'object' || item === null || seen.has(item)) continue;
    seen.add(item);
    if (ArrayBuffer.isView(item)) continue;
    const proto: unknown = Object.getPrototypeOf(item);
    if (!allowedPrototypes.has(proto) && !(item instanceof Error)) {
      return `${path} is an instance of ${className(item)}, which would arrive as a plain object without its class; ` +
        'send plain data (or convert it first, e.g. with a toJSON-like method)';
    }
    pushChildren(item, path, stack);
  }
  return null;
}

function pushChildren(item: object, path: string, stack: [unknown, string][]): void {
  if (item instanceof Map) {
    for (const [k, v] of item) stack.push([k, `${path} (a Map key)`], [v, `${path}.get(${describeKey(k)})`]);
  } else if (item instanceof Set) {
    for (const v of item) stack.push([v, `${path} (a Set member)`]);
  } else if (Array.isArray(item)) {
    for (let i = 0; i < item.length; i++) {
      const v: unknown = item[i];
      // Most arrays hold numbers: skip primitives without pushing them.
      if (typeof v === 'object' || typeof v === 'function' || typeof v === 'symbol') stack.push([v, `${path}[${i}]`]);
    }
  } else {
    for (const key of Object.keys(item)) stack.push([(item as Record<string, unknown>)[key], `${path}.${key}`]);
  }
}

function describeKey(key: unknown): string {
  return typeof key === 'string' ? JSON.stringify(key) : String(key);
}
