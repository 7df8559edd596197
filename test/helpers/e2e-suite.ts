// A value one describe block shares between its tests (a connected server, a finished scenario): made in its
// beforeAll, ended in its afterAll. Written out, that is the same let + beforeAll + afterAll in every such block.
import { afterAll, beforeAll } from "bun:test";

/**
 * Registers a beforeAll that makes the value and an afterAll that ends it, in the describe block it is called in,
 * and returns the reader its tests call. A value that was never made (beforeAll failed) is not ended, and reading it
 * throws instead of handing a test `undefined`.
 */
export function suiteValue<T>(make: () => Promise<T>, end: (value: T) => Promise<unknown>): () => T {
  let made: { value: T } | undefined;
  beforeAll(async () => {
    made = { value: await make() };
  });
  afterAll(async () => {
    if (made) await end(made.value);
  });
  return () => {
    if (!made) throw new Error("this describe block's beforeAll did not make its value: see the error it failed with");
    return made.value;
  };
}
