/**
 * Gathers the calls made during one turn of the event loop and runs them as
 * one batch, at the end of the turn (setImmediate: after every callback and
 * microtask of the turn). A pool manager settles the outcomes of many tasks
 * in one turn when they are short, and a client that awaits thousands of
 * handles asks after each of their tasks in one: one call to Redis or SQLite
 * for all of them costs a fraction of one call each. Each caller gets its own
 * item's answer, or the batch's error.
 */
export class TurnBatch<In, Out> {
  private pending: Array<{ input: In; resolve(output: Out): void; reject(error: unknown): void }> = [];
  private scheduled = false;

  constructor(
    private readonly run: (inputs: In[]) => Promise<Out[]>,
    /** The most items in one call. */
    private readonly maxItems: number,
  ) {}

  add(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.pending;
    this.pending = [];
    for (let start = 0; start < all.length; start += this.maxItems) {
      const chunk = all.slice(start, start + this.maxItems);
      this.run(chunk.map((item) => item.input)).then(
        (outputs) => chunk.forEach((item, index) => item.resolve(outputs[index]!)),
        (error: unknown) => chunk.forEach((item) => item.reject(error)),
      );
    }
  }
}
