import type { DecisionRecord } from '../../ports/store.js';
import { formatDuration } from '../format/durations.js';
import { textTable } from '../format/text-table.js';
import type { DemoStats } from './demo-stats.js';
import type { MinedBlock } from './mine-blocks.js';

export interface SummaryInput {
  chain: readonly MinedBlock[];
  stats: DemoStats;
  cores: number;
  miningMs: number;
  startedAt: number;
  finalWorkers: number;
  min: number;
}

export function formatSummary(input: SummaryInput): string {
  const { chain, stats, cores, miningMs } = input;
  const busySeconds = stats.cpuMicros / 1e6;
  const efficiency = busySeconds / (cores * (miningMs / 1000));
  const maxStop = stats.stopDelays.length ? Math.max(...stats.stopDelays) : undefined;
  const lines = [
    '',
    'Blocks',
    textTable(
      ['#', 'NONCE', 'HASH', 'TIME', 'RANGES'],
      chain.map((b) => [String(b.index), String(b.nonce), `${b.hash.slice(0, 20)}…`, formatDuration(b.ms), String(b.ranges)]),
    ),
    '',
    `Tasks: ${stats.finishedRanges + stats.stoppedWhileRunning} ran, ${stats.stoppedWhileRunning + stats.cancelledBeforeStart} cancelled`,
    `  ${stats.foundNonces} found a nonce, ${stats.finishedRanges - stats.foundNonces} searched their whole range in vain`,
    `  ${stats.stoppedWhileRunning} stopped mid-range when another range won` +
      (maxStop === undefined ? '' : ` (all within ${maxStop} ms of the win)`),
    `  ${stats.cancelledBeforeStart} cancelled in the queue before they started`,
    `Hashes: ${(stats.hashes / 1e6).toFixed(2)} M in ${formatDuration(miningMs)} (${(stats.hashes / 1e6 / (miningMs / 1000)).toFixed(2)} M/s)`,
    `CPU efficiency: ${efficiency.toFixed(3)} of the ideal (busy CPU ${busySeconds.toFixed(2)}s over ${cores} cores × ${(miningMs / 1000).toFixed(2)}s)`,
    '',
    'Scaling decisions',
    formatDecisions(stats.decisions, input.startedAt),
    '',
    `The pool is back at its minimum: ${input.finalWorkers} worker(s) (min ${input.min}).`,
  ];
  return lines.join('\n');
}

export function formatDecisions(decisions: readonly DecisionRecord[], since: number): string {
  if (decisions.length === 0) return '  (none)';
  return textTable(
    ['AT', 'WORKERS', 'REASON', 'WHY'],
    decisions.map((d) => [`+${((d.at - since) / 1000).toFixed(2)}s`, `${d.from} → ${d.to}`, d.reason, d.detail]),
  );
}
