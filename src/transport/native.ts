/**
 * Native calls through koffi (an optional dependency): each binding is made
 * once, and where it cannot be (no koffi, not Linux) the reason is kept and
 * returned instead, so callers fall back and can say why.
 */

/** `bind` run at the first call; later calls return its result, or the error it threw. */
export function loadOnce<T>(bind: () => T): () => T | Error {
  let cached: T | Error | null = null;
  return () => {
    if (cached === null) {
      try {
        cached = bind();
      } catch (err) {
        cached = err instanceof Error ? err : new Error(String(err));
      }
    }
    return cached;
  };
}
