// What a worktree set-up needs of a spare pool, and nothing more: the set-up (worktree.ts) sees the pool (spares.ts)
// only through this, so neither imports the other.
import type { WorktreePlaces } from "./checkout.ts";
import type { WorktreeRecipe } from "./recipe.ts";

/** A spare handed to a delegation: its places (as a cold set-up lays them out) and a note for the result. */
export interface TakenSpare {
  places: Required<WorktreePlaces>;
  note: string;
}

/** What a delegation needs of the spare pool; NO_SPARES is the explicit "none". */
export interface Spares {
  take(recipe: WorktreeRecipe, signal?: AbortSignal): Promise<TakenSpare | undefined>;
  replenish(recipe: WorktreeRecipe): void;
  /** Hand over a used worktree's removal: the pool runs it after the result has gone out; with no pool it runs now. */
  deferRemoval(removal: () => Promise<void>): void | Promise<void>;
  /** At exit: nothing of the pool's is left once this resolves. */
  close(): Promise<void>;
}

/** No spares: every worktree is checked out for its call, and removed before the call returns (a one-off `run`). */
export const NO_SPARES: Spares = {
  take: async () => undefined,
  replenish: () => {},
  deferRemoval: (removal) => removal(),
  close: async () => {},
};
