import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { withBackendOptions, type BackendCliOptions } from '../backend-options.js';
import { runDemo } from '../demo/run-demo.js';
import { parseCount, parseDuration } from '../format/durations.js';

interface DemoCliOptions extends BackendCliOptions {
  blocks: number;
  difficulty: number;
  min: number;
  max?: number;
  scaleDownWindow: number;
}

export function registerDemo(program: Command): void {
  withBackendOptions(
    program
      .command('demo')
      .description('watch a pool scale on a burst of CPU work: mine a few proof-of-work blocks')
      .option('--blocks <n>', 'blocks to mine', parseCount, 5)
      .option('--difficulty <bits>', 'leading zero bits a block hash needs (each bit doubles the work)', parseCount, 20)
      .option('--min <n>', 'fewest workers', parseCount, 0)
      .option('--max <n>', "most workers (default: the machine's cores)", parseCount)
      .option('--scale-down-window <duration>', 'idle time before workers retire', parseDuration, 1500),
  ).action(async (options: DemoCliOptions) => {
    if (options.blocks < 1) throw new ConfigError('--blocks must be at least 1');
    if (options.difficulty < 1 || options.difficulty > 40) throw new ConfigError('--difficulty must be between 1 and 40 bits');
    // Without --data, --broker or --store the demo uses a temporary database, removed after.
    await runDemo({
      blocks: options.blocks,
      difficulty: options.difficulty,
      min: options.min,
      scaleDownWindowMs: options.scaleDownWindow,
      ...(options.max === undefined ? {} : { max: options.max }),
      backend: options,
    });
  });
}
