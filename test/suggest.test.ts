import { expect, test } from "bun:test";
import { closest, didYouMean, editDistance } from "../src/suggest.ts";

test("editDistance counts inserts, deletes, substitutions and swapped neighbours", () => {
  expect(editDistance("sandbox_mod", "sandbox_mode")).toBe(1);
  expect(editDistance("reveiw", "review")).toBe(1);
  expect(editDistance("abc", "abc")).toBe(0);
  expect(editDistance("", "abc")).toBe(3);
});

test("closest finds a slip of the keyboard and nothing for an unrelated word", () => {
  expect(closest("sandbox_mod", ["model", "sandbox_mode", "profile"])).toBe("sandbox_mode");
  expect(closest("reviw", ["review", "debugger", "security"])).toBe("review");
  expect(closest("--max-sanbox", ["--max-sandbox", "--max-depth"])).toBe("--max-sandbox");
  expect(closest("Review", ["review"])).toBe("review");
  expect(closest("zzz", ["review", "debugger"])).toBeUndefined();
  expect(closest("ab", ["xy"])).toBeUndefined();
});

test("didYouMean is a clause to append, or nothing", () => {
  expect(didYouMean("reviw", ["review"])).toBe('; did you mean "review"?');
  expect(didYouMean("zzz", ["review"])).toBe("");
});
