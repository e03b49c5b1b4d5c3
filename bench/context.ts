/** What every scenario gets from the command line. */
export interface BenchContext {
  cores: number;
  /** Shorter runs: fewer tasks and repetitions, same method. */
  quick: boolean;
  /** Progress lines, on stderr so that stdout stays the table (or the JSON). */
  log(message: string): void;
}
