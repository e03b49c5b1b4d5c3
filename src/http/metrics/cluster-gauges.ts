import { Counter, Gauge, type Registry } from 'prom-client';
import type { WorkerState } from '../../ports/store.js';
import type { ClusterView } from '../../views/cluster-view.js';
import type { ClusterSampler } from './cluster-sampler.js';

export const QUEUE_STATES = ['ready', 'blocked', 'delayed', 'running', 'dead'] as const;
export const WORKER_STATES: readonly WorkerState[] = ['starting', 'idle', 'busy', 'retiring'];

type Setter<L extends string> = (labels: Record<L, string>, value: number) => void;

interface ViewMetric<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  fill(view: ClusterView, set: Setter<L>): void;
}

/**
 * Gauges read from the cluster view at scrape time, so that they cover every
 * pool and every queue the store knows, also under `gaffer dashboard` (which
 * runs no pool). Each scrape starts from empty: queues and pools that are gone
 * disappear instead of keeping their last value.
 */
export function registerClusterGauges(registry: Registry, sampler: ClusterSampler): void {
  new Gauge({
    name: 'gaffer_backend_up',
    help: 'Whether this scrape could read the broker and the store (1) or not (0); the other gaffer_queue_* and gaffer_pool_* gauges are missing when 0.',
    registers: [registry],
    async collect() {
      this.set((await sampler.sample()) ? 1 : 0);
    },
  });

  viewGauge(registry, sampler, {
    name: 'gaffer_queue_tasks',
    help: 'Tasks in a queue by state: ready (could start now), blocked (behind an earlier task of its key), delayed (waiting for its time or a retry backoff), running, dead (in the dead-letter queue).',
    labelNames: ['queue', 'state'],
    fill: (view, set) => {
      for (const queue of view.queues) for (const state of QUEUE_STATES) set({ queue: queue.queue, state }, queue[state]);
    },
  });

  viewGauge(registry, sampler, {
    name: 'gaffer_queue_paused',
    help: 'Whether a queue is paused (1): pools take none of its tasks; running ones go on.',
    labelNames: ['queue'],
    fill: (view, set) => {
      for (const queue of view.queues) set({ queue: queue.queue }, queue.paused ? 1 : 0);
    },
  });

  // A counter kept by the broker: rate() over it is the queue's arrival rate, whichever pool or producer enqueued.
  new Counter({
    name: 'gaffer_queue_enqueued_total',
    help: 'Tasks ever enqueued to a queue, as the broker counts them.',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const view = await sampler.sample();
      this.reset();
      for (const queue of view?.queues ?? []) this.inc({ queue: queue.queue }, queue.enqueuedTotal);
    },
  });

  viewGauge(registry, sampler, {
    name: 'gaffer_workers',
    help: 'Worker processes of a pool by state: starting, idle, busy, retiring.',
    labelNames: ['pool', 'queue', 'state'],
    fill: (view, set) => {
      for (const pool of view.pools) {
        for (const state of WORKER_STATES) {
          set({ pool: pool.id, queue: pool.queue, state }, pool.workers.filter((worker) => worker.state === state).length);
        }
      }
    },
  });

  viewGauge(registry, sampler, {
    name: 'gaffer_pool_workers',
    help: "A pool's actual size: its live workers (starting, idle or busy; not the ones retiring).",
    labelNames: ['pool', 'queue'],
    fill: (view, set) => {
      for (const pool of view.pools) set({ pool: pool.id, queue: pool.queue }, pool.workers.filter((worker) => worker.state !== 'retiring').length);
    },
  });

  viewGauge(registry, sampler, {
    name: 'gaffer_pool_desired_workers',
    help: "The size the pool's scaling policy wants, within the pool's min and max.",
    labelNames: ['pool', 'queue'],
    fill: (view, set) => {
      for (const pool of view.pools) set({ pool: pool.id, queue: pool.queue }, pool.desired);
    },
  });

  viewGauge(registry, sampler, {
    name: 'gaffer_pool_min_workers',
    help: "A pool's minimum size, as set at start or changed at run time.",
    labelNames: ['pool', 'queue'],
    fill: (view, set) => {
      for (const pool of view.pools) set({ pool: pool.id, queue: pool.queue }, pool.min);
    },
  });

  viewGauge(registry, sampler, {
    name: 'gaffer_pool_max_workers',
    help: "A pool's maximum size, as set at start or changed at run time.",
    labelNames: ['pool', 'queue'],
    fill: (view, set) => {
      for (const pool of view.pools) set({ pool: pool.id, queue: pool.queue }, pool.max);
    },
  });

  viewGauge(registry, sampler, {
    name: 'gaffer_pool_info',
    help: 'Always 1: the host (pod) of each live pool, to join with the other gaffer_pool_* series on pool.',
    labelNames: ['pool', 'queue', 'hostname'],
    fill: (view, set) => {
      for (const pool of view.pools) set({ pool: pool.id, queue: pool.queue, hostname: pool.hostname }, 1);
    },
  });
}

function viewGauge<L extends string>(registry: Registry, sampler: ClusterSampler, metric: ViewMetric<L>): void {
  new Gauge<L>({
    name: metric.name,
    help: metric.help,
    labelNames: metric.labelNames,
    registers: [registry],
    async collect() {
      const view = await sampler.sample();
      this.reset();
      if (view) metric.fill(view, (labels, value) => this.set(labels as Partial<Record<L, string>>, value));
    },
  });
}
