import { once } from "./once.ts";

/** Limits how many delegations run at once; the rest wait their turn in arrival order. */
export class Limiter {
  private running = 0;
  private waiting: Array<() => void> = [];
  constructor(readonly max: number) {}

  get active(): number {
    return this.running;
  }
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Wait for a slot. Resolves to a release function, or rejects with the signal's reason when the call is cancelled
   * while it waits (the slot is then never taken).
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(new Error("cancelled while waiting for a free slot"));
    const release = () => {
      this.running -= 1;
      const next = this.waiting.shift();
      if (next) next();
    };
    if (this.running < this.max) {
      this.running += 1;
      return Promise.resolve(once(release));
    }
    return new Promise((resolve, reject) => {
      const start = () => {
        signal?.removeEventListener("abort", onAbort);
        this.running += 1;
        resolve(once(release));
      };
      const onAbort = () => {
        this.waiting = this.waiting.filter((w) => w !== start);
        reject(new Error("cancelled while waiting for a free slot"));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(start);
    });
  }
}
