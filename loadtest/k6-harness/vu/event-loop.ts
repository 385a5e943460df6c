/**
 * One VU's event loop, after internal/js/eventloop/eventloop.go: an iteration lasts until its
 * function has returned AND no registered callback is outstanding (a pending timer, an open
 * WebSocket, an async request in flight). A promise the function returned that is still pending
 * then does not keep it alive. A callback that throws, or a promise rejected without a handler,
 * ends the iteration with that error ("Uncaught (in promise) ...").
 *
 * Node already runs each network event and timer as its own task and drains promise jobs after
 * it, which is what k6's loop does between callbacks; this class only keeps the count.
 */
export class EventLoop {
  private registered = 0;
  private failure: { error: unknown } | null = null;
  private idleWaiter: (() => void) | null = null;
  private checkScheduled = false;
  private draining = false;

  /** A callback that keeps the loop (and so the iteration) alive until released. */
  register(): () => void {
    this.registered++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.registered--;
      this.scheduleCheck();
    };
  }

  /** Runs a callback on the loop; an exception ends the iteration. */
  run(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(e);
    }
  }

  fail(error: unknown): void {
    if (this.failure === null) this.failure = { error };
    this.scheduleCheck();
  }

  get failed(): { error: unknown } | null {
    return this.failure;
  }

  get outstanding(): number {
    return this.registered;
  }

  /**
   * Resolves once nothing is registered (promise jobs drained first) or, unless `drain`, a
   * callback failed. `drain` waits out what is still registered after a failure (sockets being
   * closed), as k6's WaitOnRegistered does.
   */
  untilIdle(drain = false): Promise<void> {
    return new Promise((resolve) => {
      this.draining = drain;
      this.idleWaiter = resolve;
      this.scheduleCheck();
    });
  }

  /** Starts a fresh iteration (k6 reuses the loop once WaitOnRegistered returned). */
  reset(): void {
    this.failure = null;
  }

  private scheduleCheck(): void {
    if (this.checkScheduled || this.idleWaiter === null) return;
    this.checkScheduled = true;
    // setImmediate runs after the current task's promise jobs: a callback that resolves a
    // promise whose continuation registers a new timer is seen before the loop is called idle.
    setImmediate(() => {
      this.checkScheduled = false;
      const waiter = this.idleWaiter;
      if (waiter !== null && (this.registered === 0 || (!this.draining && this.failure !== null))) {
        this.idleWaiter = null;
        waiter();
      }
    });
  }
}
