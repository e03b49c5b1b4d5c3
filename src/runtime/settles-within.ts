/**
 * Whether `work` settles (either way) within `timeoutMs`. The work goes on
 * regardless: this only bounds how long the caller waits for it, for the
 * steps of a shutdown that a lost server could otherwise hold up for ever.
 */
export async function settlesWithin(work: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const settled = work.then(
    () => true as const,
    () => true as const,
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}
