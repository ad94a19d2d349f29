/**
 * A timeout that counts only the time the event loop was free to run.
 *
 * A plain `setTimeout` counts a block of the event loop (another callback
 * computing, a sync read) against whatever it guards, though nothing it
 * guards could have moved meanwhile: a callback waiting on a body that sat
 * unread in the kernel would be cut for the server's own stall. This one
 * looks every quarter of its timeout (at most every second); a look that
 * comes late counts at most two periods, however long the block was.
 * `clearTimeout` and `unref` work on what it returns.
 */
export function setLiveTimeout(run: () => void, timeout: number): NodeJS.Timeout {
  const period = Math.max(1, Math.min(1000, Math.floor(timeout / 4)));
  let counted = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    counted += Math.min(now - last, 2 * period);
    last = now;
    // A millisecond's grace: intervals fire on whole milliseconds, a hair early by performance.now().
    if (counted < timeout - 1) return;
    clearInterval(timer);
    run();
  }, period);
  return timer;
}
