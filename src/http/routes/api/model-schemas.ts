/**
 * Response schemas of the API's models. fastify serializes each response with
 * its schema, which also means a field missing here never leaves the server:
 * keep these in step with the TypeScript types they describe (the API tests
 * compare responses with what the store and broker return).
 */

const int = { type: 'integer' } as const;
const num = { type: 'number' } as const;
const str = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;

const percentiles = {
  type: ['object', 'null'],
  description: 'p50 and p95 in milliseconds; null before any task finished',
  properties: { p50: num, p95: num },
} as const;

/** QueueView (src/views/cluster-view.ts). */
export const queueViewSchema = {
  type: 'object',
  required: ['queue', 'ready', 'blocked', 'delayed', 'running', 'dead', 'enqueuedTotal', 'paused', 'pools', 'workers'],
  properties: {
    queue: str,
    ready: int,
    blocked: int,
    delayed: int,
    running: int,
    dead: int,
    enqueuedTotal: int,
    paused: bool,
    pools: int,
    workers: int,
    arrivalsPerSecond: num,
    completedPerSecond: num,
    waitMs: percentiles,
    runMs: percentiles,
  },
} as const;

/** WorkerSnapshot (src/ports/store.ts). */
export const workerSchema = {
  type: 'object',
  required: ['pid', 'state', 'tasksDone', 'startedAt'],
  properties: {
    pid: int,
    state: { type: 'string', enum: ['starting', 'idle', 'busy', 'retiring'] },
    taskId: str,
    taskType: str,
    taskStartedAt: num,
    tasksDone: int,
    startedAt: num,
    rssBytes: num,
  },
} as const;

const outcomes = {
  type: 'object',
  properties: { queued: int, running: int, retrying: int, succeeded: int, dead: int, cancelled: int },
} as const;

/** PoolSnapshot (src/ports/store.ts). */
export const poolSchema = {
  type: 'object',
  required: ['id', 'hostname', 'pid', 'queue', 'min', 'max', 'desired', 'workers'],
  properties: {
    id: str,
    hostname: str,
    pid: int,
    queue: str,
    startedAt: num,
    heartbeatAt: num,
    ttlMs: num,
    min: int,
    max: int,
    desired: int,
    draining: bool,
    paused: bool,
    workers: { type: 'array', items: workerSchema },
    stats: {
      type: 'object',
      properties: { windowMs: num, outcomes, completedPerSecond: num, arrivalsPerSecond: num, waitMs: percentiles, runMs: percentiles },
    },
  },
} as const;

/** DecisionRecord (src/ports/store.ts), with the observation the policy decided on. */
export const decisionSchema = {
  type: 'object',
  required: ['poolId', 'at', 'from', 'to', 'reason', 'detail'],
  properties: {
    poolId: str,
    at: num,
    from: int,
    to: int,
    want: int,
    reason: str,
    detail: str,
    observation: {
      type: 'object',
      properties: { now: num, ready: int, running: int, workers: int, arrivalRate: num, serviceMs: { type: ['number', 'null'] } },
    },
  },
} as const;

/** DeadReason (src/core/task-record.ts): one object with the fields of every kind. */
const deadReasonSchema = {
  type: 'object',
  required: ['kind', 'message'],
  properties: {
    kind: { type: 'string', enum: ['bad_input', 'failed', 'timeout', 'crashed'] },
    code: str,
    message: str,
    stack: str,
    attempts: int,
    timeLimitMs: num,
    exitCode: { type: ['integer', 'null'] },
    signal: { type: ['string', 'null'] },
    stderrTail: str,
    deaths: int,
  },
} as const;

/** TaskRecord (src/core/task-record.ts). */
export const taskRecordSchema = {
  type: 'object',
  required: ['id', 'queue', 'type', 'state', 'attempts', 'deaths', 'enqueuedAt'],
  properties: {
    id: str,
    queue: str,
    type: str,
    key: str,
    group: str,
    state: { type: 'string', enum: ['queued', 'running', 'retrying', 'succeeded', 'dead', 'cancelled'] },
    attempts: int,
    deaths: int,
    enqueuedAt: num,
    startedAt: num,
    finishedAt: num,
    result: { description: 'what the handler returned (any JSON)' },
    error: { type: 'object', properties: { name: str, message: str, stack: str, code: str } },
    deadReason: deadReasonSchema,
    poolId: str,
    workerPid: int,
  },
} as const;

/** DeadLetter (src/ports/broker.ts); the payload is the raw JSON text it was enqueued as. */
export const deadLetterSchema = {
  type: 'object',
  required: ['envelope', 'reason', 'attempts', 'deaths', 'deadAt'],
  properties: {
    envelope: {
      type: 'object',
      required: ['id', 'queue', 'type', 'payload', 'enqueuedAt'],
      properties: { id: str, queue: str, type: str, payload: str, key: str, group: str, race: bool, enqueuedAt: num, runAt: num },
    },
    reason: deadReasonSchema,
    attempts: int,
    deaths: int,
    deadAt: num,
  },
} as const;
