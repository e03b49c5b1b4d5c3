import type { Command } from 'commander';
import { readCluster } from '../../views/cluster-view.js';
import { withBackend, withBackendOptions } from '../backend-options.js';
import { formatBytes, formatDuration, parseCount } from '../format/durations.js';
import { textTable } from '../format/text-table.js';

function percentilePair(figures: { p50: number; p95: number } | null): string {
  return figures ? `${formatDuration(figures.p50)}/${formatDuration(figures.p95)}` : '-';
}

export function registerStatus(program: Command): void {
  withBackendOptions(
    program
      .command('status')
      .description('the queues, the pools and their workers, and the last scaling decisions')
      .option('--decisions <n>', 'how many recent decisions to show', parseCount, 10)
      .option('--json', 'print JSON'),
  ).action((options: { data?: string; json?: boolean; decisions: number }) =>
    withBackend(options, async (backend) => {
      const { queues, pools, decisions } = await readCluster(backend, { decisions: options.decisions });
      if (options.json) {
        console.log(JSON.stringify({ queues, pools, decisions }, null, 2));
        return;
      }
      const now = Date.now();
      const sections: string[] = [];
      sections.push(
        queues.length === 0
          ? 'queues: none yet'
          : textTable(
              ['QUEUE', 'READY', 'WAITING ON KEY', 'DELAYED', 'RUNNING', 'DEAD', 'ENQUEUED', 'IN/S', 'OUT/S', 'WAIT P50/P95', 'RUN P50/P95'],
              queues.map((q) => [
                q.paused ? `${q.queue} (paused)` : q.queue,
                ...[q.ready, q.blocked, q.delayed, q.running, q.dead, q.enqueuedTotal].map(String),
                q.arrivalsPerSecond.toFixed(1),
                q.completedPerSecond.toFixed(1),
                percentilePair(q.waitMs),
                percentilePair(q.runMs),
              ]),
            ),
      );
      if (pools.length === 0) sections.push('pools: none running');
      for (const pool of pools) {
        const header = `pool ${pool.id} (pid ${pool.pid}) on queue "${pool.queue}": ${pool.workers.length} worker(s), desired ${pool.desired}, min ${pool.min}, max ${pool.max}${pool.paused ? ', paused' : ''}${pool.draining ? ', draining' : ''}`;
        const rows = pool.workers.map((w) => [
          String(w.pid),
          w.state,
          w.taskId ? `${w.taskType} ${w.taskId} (${formatDuration(now - (w.taskStartedAt ?? now))})` : '-',
          String(w.tasksDone),
          formatDuration(now - w.startedAt),
          formatBytes(w.rssBytes),
        ]);
        sections.push(rows.length ? `${header}\n${textTable(['PID', 'STATE', 'TASK', 'DONE', 'UPTIME', 'MEMORY'], rows)}` : header);
      }
      if (decisions.length > 0) {
        const rows = decisions.map((d) => [new Date(d.at).toISOString().slice(11, 23), `${d.from} → ${d.to}`, d.reason, d.detail]);
        sections.push(`last decisions\n${textTable(['TIME', 'WORKERS', 'REASON', 'DETAIL'], rows)}`);
      }
      console.log(sections.join('\n\n'));
    }),
  );
}
