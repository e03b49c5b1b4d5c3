/**
 * The scaling policy: a pure function from what the pool sees to how many
 * workers it should have, and why. No clock, no I/O: time comes in with the
 * observation, and the little the policy remembers comes back out with the
 * decision, so every scenario is a table row in a unit test.
 */
export interface Observation {
  now: number;
  /** Tasks in the queue that could start now. */
  ready: number;
  /** Tasks this pool is running. */
  running: number;
  /** Live workers: starting, idle or busy (not the ones already retiring). */
  workers: number;
  /** Tasks per second entering the queue, smoothed. */
  arrivalRate: number;
  /** Mean run time of recent tasks, or null before any has finished. */
  serviceMs: number | null;
}

export interface ScalingSettings {
  min: number;
  max: number;
  /** Cores of the machine, to explain a cap at max in those terms. */
  cores: number;
  /** Aim to start every ready task within this time. */
  targetWaitMs: number;
  /** Scale down only to the highest need seen within this window. */
  scaleDownWindowMs: number;
}

export interface PolicyMemory {
  /** Recent needs (workers wanted before min/max), newest last, inside the window. */
  readonly recent: ReadonlyArray<{ at: number; want: number }>;
}

export type ReasonCode = 'backlog' | 'arrivals' | 'busy' | 'idle' | 'stabilizing' | 'at_max' | 'at_min' | 'steady';

export interface ScalingDecision {
  desired: number;
  /** Workers the work needs right now, before the window, min and max. */
  want: number;
  reason: ReasonCode;
  detail: string;
  memory: PolicyMemory;
}

export const EMPTY_MEMORY: PolicyMemory = { recent: [] };

/** Under-provision tolerated from the arrival term before another worker is kept warm. */
const ARRIVAL_SLACK = 0.1;

export function decide(obs: Observation, settings: ScalingSettings, memory: PolicyMemory = EMPTY_MEMORY): ScalingDecision {
  const need = workersNeeded(obs, settings);
  const windowStart = obs.now - settings.scaleDownWindowMs;
  const recent = [...memory.recent.filter((entry) => entry.at > windowStart && entry.at <= obs.now), { at: obs.now, want: need.want }];
  const nextMemory: PolicyMemory = { recent };

  let target = need.want;
  let reason: ReasonCode = need.reason;
  let detail = need.detail;

  if (need.want < obs.workers) {
    const held = Math.min(obs.workers, Math.max(...recent.map((entry) => entry.want)));
    if (held > need.want) {
      target = held;
      reason = 'stabilizing';
      detail = `${need.detail}; holding ${held} worker(s) until the need stays lower for ${formatMs(settings.scaleDownWindowMs)}`;
    } else if (need.want < obs.workers) {
      reason = 'idle';
      detail = `${need.detail}; no more need for ${formatMs(settings.scaleDownWindowMs)}: retire ${obs.workers - need.want} idle worker(s)`;
    }
  }

  if (target > settings.max) {
    const limit = settings.max === settings.cores ? `max ${settings.max} (the machine's cores)` : `max ${settings.max}`;
    return { desired: settings.max, want: need.want, reason: 'at_max', detail: `${detail}; capped at ${limit}`, memory: nextMemory };
  }
  if (target < settings.min) {
    return { desired: settings.min, want: need.want, reason: 'at_min', detail: `${detail}; kept at min ${settings.min}`, memory: nextMemory };
  }
  return { desired: target, want: need.want, reason, detail, memory: nextMemory };
}

interface Need {
  want: number;
  reason: ReasonCode;
  detail: string;
}

/**
 * Counts all the work: what runs (those workers are never taken away), what
 * waits (enough workers to start it within the target wait) and what keeps
 * arriving (Little's law: busy workers ≈ arrival rate × service time).
 */
function workersNeeded(obs: Observation, settings: ScalingSettings): Need {
  const { ready, running, serviceMs, arrivalRate } = obs;
  const state = `${ready} ready, ${running} running`;

  let forBacklog = running;
  let backlogDetail = '';
  if (ready > 0) {
    if (serviceMs === null) {
      forBacklog = running + ready;
      backlogDetail = `${state}, service time not known yet: a worker per task`;
    } else {
      const toMeetWait = Math.ceil((ready * serviceMs) / settings.targetWaitMs);
      // At least one: tasks that take (about) no time still need a worker to run them.
      forBacklog = Math.min(running + ready, Math.max(running, toMeetWait, 1));
      backlogDetail = `${state}, ~${formatMs(serviceMs)} each: ${forBacklog} worker(s) start them within ${formatMs(settings.targetWaitMs)}`;
    }
  }

  const busyFromArrivals = serviceMs === null ? 0 : (arrivalRate * serviceMs) / 1000;
  const forArrivals = Math.max(0, Math.ceil(busyFromArrivals - ARRIVAL_SLACK));

  if (forArrivals > forBacklog) {
    return {
      want: forArrivals,
      reason: 'arrivals',
      detail: `${state}; ${arrivalRate.toFixed(1)} task(s)/s × ${formatMs(serviceMs ?? 0)} ≈ ${busyFromArrivals.toFixed(2)} busy worker(s)`,
    };
  }
  if (ready > 0 && forBacklog > running) return { want: forBacklog, reason: 'backlog', detail: backlogDetail };
  if (running > 0) return { want: running, reason: 'busy', detail: ready > 0 ? backlogDetail : `${state}` };
  return { want: 0, reason: 'steady', detail: 'no work waiting or running' };
}

export function formatMs(ms: number): string {
  if (ms >= 10_000) return `${Math.round(ms / 1000)}s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.round(ms)} ms`;
}
