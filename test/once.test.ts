import { expect, test } from "bun:test";
import { once } from "../src/once.ts";

test("once runs the action at most once and returns the first result every time", () => {
  let calls = 0;
  const next = once(() => ++calls);
  expect([next(), next(), next()]).toEqual([1, 1, 1]);
  expect(calls).toBe(1);
});

test("once on an async action shares the first call's promise, so concurrent callers wait for the same work", async () => {
  let calls = 0;
  const cleanup = once(async () => {
    calls += 1;
    await new Promise((resolve) => setTimeout(resolve, 5));
    return "removed";
  });
  const [a, b] = await Promise.all([cleanup(), cleanup()]);
  expect([a, b, calls]).toEqual(["removed", "removed", 1]);
  expect(cleanup()).toBe(cleanup());
});
