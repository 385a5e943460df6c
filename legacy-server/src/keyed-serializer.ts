/**
 * Runs async tasks one at a time per key, in call order; tasks for different keys run concurrently.
 *
 * Why it exists: FerretDB v1 executes an update as "read the document, compute, write it back"
 * without isolation, so two concurrent `$inc`s on the same document lose one of them (100
 * concurrent `$inc`s measured 13). The droplet is a single process, so queueing every mutation of
 * one document behind the previous one inside that process restores the atomicity the store port
 * promises. On real MongoDB each write is atomic anyway and the queue only costs a little latency
 * on a hot key.
 *
 * Each key holds one promise: the tail of its queue. A task starts when the previous tail settles
 * (fulfilled or rejected, so one failure never blocks the key) and the key is removed from the map
 * once its last task has settled, so the map does not grow with the number of keys ever seen.
 */
export class KeyedSerializer {
  // A Map, not an object: keys are user data (emoji names, reaction keys) such as `__proto__`.
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `task` after every task queued before it under `key`; settles as the task does. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const result = previous === undefined ? start(task) : previous.then(task);
    const tail = result.then(ignore, ignore);
    this.tails.set(key, tail);
    void tail.then(() => {
      // Only the last task of a queue may remove it; a newer task has replaced the tail otherwise.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with a task running or queued. */
  get activeKeys(): number {
    return this.tails.size;
  }
}

/** Starts at once when the key is idle; a synchronous throw becomes a rejection like in `then`. */
function start<T>(task: () => Promise<T>): Promise<T> {
  try {
    return Promise.resolve(task());
  } catch (err) {
    return Promise.reject(err);
  }
}

function ignore(): void {}
