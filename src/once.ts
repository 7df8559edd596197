/**
 * Wrap a function so it runs at most once: every later call returns what the first call returned (for an async
 * function, the first call's promise, so a second caller waits for the same work instead of starting it again).
 */
export function once<T>(action: () => T): () => T {
  let ran = false;
  let result: T;
  return () => {
    if (!ran) {
      ran = true;
      result = action();
    }
    return result;
  };
}
