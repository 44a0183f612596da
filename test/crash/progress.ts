/**
 * Waits until `done()` holds, or until `progress()` (a count that grows while work gets done) has
 * not changed for `stallMs`: a loaded machine may deliver slowly, but a run that stopped moving
 * is a failure, so the wait ends on a stall rather than at a fixed time. Returns whether done.
 */
export async function untilDoneOrStalled(
  done: () => Promise<boolean> | boolean,
  progress: () => Promise<number> | number,
  stallMs: number,
  everyMs = 200,
): Promise<boolean> {
  let last = -1;
  let changedAt = Date.now();
  for (;;) {
    if (await done()) return true;
    const n = await progress();
    if (n !== last) {
      last = n;
      changedAt = Date.now();
    } else if (Date.now() - changedAt > stallMs) {
      return false;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
