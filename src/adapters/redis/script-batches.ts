/** The most tasks one batch script handles, so that no single call keeps Redis busy for long. */
export const ITEMS_PER_CALL = 200;

/** Runs a batch script over `items` in calls of at most ITEMS_PER_CALL, concatenating their answers in order. */
export async function inChunks<T, R>(items: readonly T[], call: (chunk: readonly T[]) => Promise<R[]>): Promise<R[]> {
  const calls: Array<Promise<R[]>> = [];
  for (let start = 0; start < items.length; start += ITEMS_PER_CALL) calls.push(call(items.slice(start, start + ITEMS_PER_CALL)));
  return (await Promise.all(calls)).flat();
}
