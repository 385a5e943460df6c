/** Progress lines on stderr while a step runs (stdout stays free for results). */

export type Log = (line: string) => void;

export const stderrLog: Log = (line) => process.stderr.write(`${line}\n`);

export const silentLog: Log = () => {};

/** Calls `tick` every `everyMs` until the returned stop function is called; errors are ignored. */
export function ticker(everyMs: number, tick: () => Promise<void> | void): () => void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    Promise.resolve()
      .then(tick)
      .catch(() => undefined)
      .finally(() => {
        busy = false;
      });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
