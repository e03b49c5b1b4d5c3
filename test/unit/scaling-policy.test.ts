import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  decide,
  formatMs,
  EMPTY_MEMORY,
  type Observation,
  type PolicyMemory,
  type ReasonCode,
  type ScalingSettings,
} from '../../src/core/scaling-policy.js';

const TICK = 100;
const WINDOW = 1000;

const BASE: ScalingSettings = { min: 0, max: 8, cores: 8, targetWaitMs: 1000, scaleDownWindowMs: WINDOW };

interface Expected {
  desired: number;
  reason: ReasonCode;
  want?: number;
  detail?: RegExp;
}

/** One tick. `workers` defaults to the previous decision: the pool did what it was told. */
interface Step extends Partial<Omit<Observation, 'now' | 'ready'>> {
  now: number;
  ready: number;
  expect: Expected;
}

interface Scenario {
  name: string;
  settings?: Partial<ScalingSettings>;
  steps: Step[];
}

/** Steps at every tick in [from, to), built by `make(now, index)`. */
function ticks(from: number, to: number, make: (now: number, index: number) => Omit<Step, 'now'>): Step[] {
  const steps: Step[] = [];
  for (let now = from, index = 0; now < to; now += TICK, index++) steps.push({ now, ...make(now, index) });
  return steps;
}

/**
 * A 200-task burst with unknown service time on an 8-core machine: all
 * workers at once, busy until t=400, idle from t=500.
 */
function burstThenIdle(idleUntil: number, idle: (now: number) => Omit<Step, 'now'>): Step[] {
  return [
    { now: 0, ready: 200, expect: { desired: 8, reason: 'at_max', want: 200 } },
    ...ticks(TICK, 500, (now) => ({ ready: 200 - now / 10, running: 8, expect: { desired: 8, reason: 'at_max' } })),
    ...ticks(500, idleUntil, idle),
  ];
}

const LAST_HIGH_NEED = 400;

const scenarios: Scenario[] = [
  {
    name: 'burst with unknown service time: jumps to max at once, capped at the cores',
    steps: [
      { now: 0, ready: 200, expect: { desired: 8, reason: 'at_max', want: 200, detail: /capped at max 8 \(the machine's cores\)$/ } },
      { now: TICK, ready: 192, running: 8, expect: { desired: 8, reason: 'at_max', want: 200 } },
    ],
  },
  {
    name: 'burst under max with unknown service time: a worker per task at once',
    steps: [{ now: 0, ready: 5, expect: { desired: 5, reason: 'backlog', want: 5, detail: /service time not known yet/ } }],
  },
  {
    name: 'burst capped below the cores: the detail does not blame the cores',
    settings: { max: 4 },
    steps: [{ now: 0, ready: 50, expect: { desired: 4, reason: 'at_max', want: 50, detail: /capped at max 4$/ } }],
  },
  {
    name: 'burst with known service time: ceil(ready × serviceMs / targetWaitMs) workers suffice',
    steps: [
      { now: 0, ready: 200, serviceMs: 20, expect: { desired: 4, reason: 'backlog', want: 4, detail: /~20 ms each: 4 worker\(s\) start them within 1\.0s/ } },
      { now: TICK, ready: 201, serviceMs: 20, expect: { desired: 5, reason: 'backlog', want: 5 } },
    ],
  },
  {
    name: 'slow tasks: never more workers than there are tasks',
    steps: [{ now: 0, ready: 2, serviceMs: 5000, expect: { desired: 2, reason: 'backlog', want: 2 } }],
  },
  {
    name: 'backlog that the running workers already cover: busy, no new worker',
    steps: [{ now: 0, ready: 200, running: 3, workers: 3, serviceMs: 10, expect: { desired: 3, reason: 'busy', want: 3 } }],
  },
  {
    name: "trickle: Little's law keeps workers warm with nothing queued",
    steps: ticks(0, 2 * WINDOW, (_now, index) => ({
      ready: 0,
      running: index % 2,
      arrivalRate: 0.5,
      serviceMs: 1000,
      expect: { desired: 1, reason: index % 2 ? 'busy' : 'arrivals', want: 1 },
    })),
  },
  {
    name: 'arrivals: 2/s × 1500 ms = 3 busy workers',
    steps: [{ now: 0, ready: 0, arrivalRate: 2, serviceMs: 1500, expect: { desired: 3, reason: 'arrivals', want: 3, detail: /2\.0 task\(s\)\/s × 1\.5s ≈ 3\.00 busy/ } }],
  },
  {
    // 2.08 busy workers: the 0.08 is inside ARRIVAL_SLACK, so a third worker is not kept warm.
    name: 'arrivals: an excess within the slack is tolerated (2/s × 1040 ms → 2)',
    steps: [{ now: 0, ready: 0, arrivalRate: 2, serviceMs: 1040, expect: { desired: 2, reason: 'arrivals', want: 2 } }],
  },
  {
    name: 'arrivals: an excess beyond the slack adds a worker (2/s × 1200 ms → 3)',
    steps: [{ now: 0, ready: 0, arrivalRate: 2, serviceMs: 1200, expect: { desired: 3, reason: 'arrivals', want: 3 } }],
  },
  {
    name: 'arrivals: a fraction of a worker above the slack keeps one warm (0.2/s × 1000 ms → 1)',
    steps: [{ now: 0, ready: 0, arrivalRate: 0.2, serviceMs: 1000, expect: { desired: 1, reason: 'arrivals', want: 1 } }],
  },
  {
    name: 'arrivals: a fraction within the slack keeps none (0.05/s × 1000 ms → 0)',
    steps: [{ now: 0, ready: 0, arrivalRate: 0.05, serviceMs: 1000, expect: { desired: 0, reason: 'steady', want: 0 } }],
  },
  {
    name: 'arrivals with unknown service time keep no worker warm',
    steps: [{ now: 0, ready: 0, arrivalRate: 50, serviceMs: null, expect: { desired: 0, reason: 'steady', want: 0 } }],
  },
  {
    name: 'drain: holds the workers for the window after the last need, then retires the idle ones',
    steps: [
      ...burstThenIdle(LAST_HIGH_NEED + WINDOW, () => ({ ready: 0, expect: { desired: 8, reason: 'stabilizing', want: 0, detail: /holding 8 worker\(s\) until the need stays lower for 1\.0s/ } })),
      { now: LAST_HIGH_NEED + WINDOW, ready: 0, expect: { desired: 0, reason: 'idle', want: 0, detail: /retire 8 idle worker\(s\)/ } },
      { now: LAST_HIGH_NEED + WINDOW + TICK, ready: 0, expect: { desired: 0, reason: 'steady', want: 0 } },
    ],
  },
  {
    name: 'drain: a worker that left on its own is not replaced while nothing needs it',
    steps: [
      ...burstThenIdle(700, () => ({ ready: 0, expect: { desired: 8, reason: 'stabilizing' } })),
      { now: 700, ready: 0, workers: 6, expect: { desired: 6, reason: 'stabilizing' } },
      ...ticks(800, LAST_HIGH_NEED + WINDOW, () => ({ ready: 0, expect: { desired: 6, reason: 'stabilizing' } })),
      { now: LAST_HIGH_NEED + WINDOW, ready: 0, expect: { desired: 0, reason: 'idle', detail: /retire 6 idle/ } },
    ],
  },
  {
    name: 'flapping input (10 ready, then 0, every 100 ms) never lowers desired',
    settings: { max: 16 },
    steps: ticks(0, 3 * WINDOW, (_now, index) => ({
      ready: index % 2 ? 0 : 10,
      expect: { desired: 10, reason: index % 2 ? 'stabilizing' : 'backlog' },
    })),
  },
  {
    name: 'never below running: only idle workers are retired',
    steps: [
      { now: 0, ready: 0, running: 5, workers: 8, expect: { desired: 5, reason: 'idle', want: 5, detail: /retire 3 idle/ } },
      { now: TICK, ready: 0, running: 5, expect: { desired: 5, reason: 'busy', want: 5 } },
      ...ticks(2 * TICK, TICK + WINDOW, () => ({ ready: 0, running: 2, expect: { desired: 5, reason: 'stabilizing', want: 2 } })),
      { now: TICK + WINDOW, ready: 0, running: 2, expect: { desired: 2, reason: 'idle', want: 2 } },
    ],
  },
  {
    name: 'min: an empty pool is kept at min',
    settings: { min: 2 },
    steps: [{ now: 0, ready: 0, expect: { desired: 2, reason: 'at_min', want: 0, detail: /kept at min 2$/ } }],
  },
  {
    name: 'min: a drain stops at min, not at zero',
    settings: { min: 2 },
    steps: [
      ...burstThenIdle(LAST_HIGH_NEED + WINDOW, () => ({ ready: 0, expect: { desired: 8, reason: 'stabilizing' } })),
      { now: LAST_HIGH_NEED + WINDOW, ready: 0, expect: { desired: 2, reason: 'at_min', want: 0 } },
    ],
  },
  {
    name: 'scale to zero, then back up on the first task',
    steps: [
      { now: 0, ready: 0, expect: { desired: 0, reason: 'steady', want: 0, detail: /no work waiting or running/ } },
      { now: TICK, ready: 1, expect: { desired: 1, reason: 'backlog', want: 1 } },
      { now: 2 * TICK, ready: 0, running: 1, serviceMs: 200, expect: { desired: 1, reason: 'busy' } },
      ...ticks(3 * TICK, 2 * TICK + WINDOW, () => ({ ready: 0, serviceMs: 200, expect: { desired: 1, reason: 'stabilizing' } })),
      { now: 2 * TICK + WINDOW, ready: 0, serviceMs: 200, expect: { desired: 0, reason: 'idle' } },
      { now: 3 * TICK + WINDOW, ready: 0, serviceMs: 200, expect: { desired: 0, reason: 'steady' } },
      { now: 4 * TICK + WINDOW, ready: 1, serviceMs: 200, expect: { desired: 1, reason: 'backlog', want: 1 } },
    ],
  },
  {
    // Service times are measured in whole milliseconds, so a pool of fast tasks has a mean of 0.
    name: 'scale back up from zero when the known service time is 0 ms',
    steps: [
      { now: 0, ready: 0, serviceMs: 0, expect: { desired: 0, reason: 'steady' } },
      { now: TICK, ready: 3, serviceMs: 0, expect: { desired: 1, reason: 'backlog', want: 1 } },
    ],
  },
];

/** Promises that hold on every tick of every scenario, whatever the row expects. */
function assertInvariants(obs: Observation, settings: ScalingSettings, desired: number, want: number, where: string): void {
  assert.ok(desired >= settings.min && desired <= settings.max, `${where}: desired ${desired} outside [min, max]`);
  assert.ok(desired >= Math.min(obs.running, settings.max), `${where}: desired ${desired} below ${obs.running} running`);
  if (desired > obs.workers) {
    const clamped = Math.min(settings.max, Math.max(settings.min, want));
    assert.equal(desired, clamped, `${where}: grew past the workers without a need for it`);
  }
}

function run(scenario: Scenario): void {
  const settings = { ...BASE, ...scenario.settings };
  let memory: PolicyMemory = EMPTY_MEMORY;
  let workers = 0;
  for (const { expect, ...step } of scenario.steps) {
    const obs: Observation = { running: 0, arrivalRate: 0, serviceMs: null, workers, ...step };
    const decision = decide(obs, settings, memory);
    const where = `at ${obs.now} ms (${JSON.stringify(obs)})`;
    assert.deepEqual({ desired: decision.desired, reason: decision.reason }, { desired: expect.desired, reason: expect.reason }, where);
    if (expect.want !== undefined) assert.equal(decision.want, expect.want, `${where}: want`);
    if (expect.detail) assert.match(decision.detail, expect.detail, where);
    assertInvariants(obs, settings, decision.desired, decision.want, where);
    memory = decision.memory;
    workers = decision.desired;
  }
}

describe('decide: scenarios over several ticks', () => {
  for (const scenario of scenarios) test(scenario.name, () => run(scenario));
});

describe('decide: memory', () => {
  test('keeps only entries inside (now - window, now] plus the current need', () => {
    const memory: PolicyMemory = {
      recent: [
        { at: 100, want: 9 },
        { at: 500, want: 9 },
        { at: 900, want: 3 },
        { at: 1400, want: 2 },
        { at: 2000, want: 9 },
      ],
    };
    const decision = decide({ now: 1500, ready: 1, running: 0, workers: 0, arrivalRate: 0, serviceMs: null }, BASE, memory);
    assert.deepEqual(decision.memory.recent, [
      { at: 900, want: 3 },
      { at: 1400, want: 2 },
      { at: 1500, want: 1 },
    ]);
  });

  test('a high need older than the window does not hold workers', () => {
    const memory: PolicyMemory = { recent: [{ at: 0, want: 8 }] };
    const decision = decide({ now: WINDOW, ready: 0, running: 0, workers: 8, arrivalRate: 0, serviceMs: null }, BASE, memory);
    assert.equal(decision.desired, 0);
    assert.equal(decision.reason, 'idle');
  });

  test('does not modify the memory it is given', () => {
    const memory: PolicyMemory = Object.freeze({ recent: Object.freeze([Object.freeze({ at: 0, want: 4 })]) });
    const decision = decide({ now: TICK, ready: 2, running: 0, workers: 4, arrivalRate: 0, serviceMs: null }, BASE, memory);
    assert.deepEqual(memory.recent, [{ at: 0, want: 4 }]);
    assert.notEqual(decision.memory, memory);
  });

  test('starts from empty memory when none is passed', () => {
    const decision = decide({ now: 42, ready: 0, running: 0, workers: 3, arrivalRate: 0, serviceMs: null }, BASE);
    assert.deepEqual(decision.memory.recent, [{ at: 42, want: 0 }]);
    assert.equal(decision.reason, 'idle');
  });
});

describe('formatMs', () => {
  const rows: Array<[number, string]> = [
    [0, '0 ms'],
    [12.4, '12 ms'],
    [999, '999 ms'],
    [1000, '1.0s'],
    [1500, '1.5s'],
    [9_940, '9.9s'],
    [10_000, '10s'],
    [12_600, '13s'],
    [90_000, '90s'],
  ];
  for (const [ms, text] of rows) test(`${ms} ms → "${text}"`, () => assert.equal(formatMs(ms), text));
});
