/** Which pages of which tables a dashboard client shows; its event stream sends those. */
export interface DashboardQuery {
  queueOffset: number;
  queueLimit: number;
  /** Part of a queue name, case-insensitive. */
  queueFilter?: string;
  queueSort: 'name' | 'backlog' | 'running' | 'dead';
  poolOffset: number;
  poolLimit: number;
  workerOffset: number;
  workerLimit: number;
  workerState: 'all' | 'busy';
  deadOffset: number;
  deadLimit: number;
  /** One queue to look at: the chart, pools, workers, failures and dead letters are then its own. */
  focus?: string;
  /** Decisions from this time on (ms since the epoch); a reconnecting client passes its newest. */
  since?: number;
}

const MAX_PAGE = 200;

const offset = { type: 'integer', minimum: 0, default: 0 } as const;
const limit = (fallback: number) => ({ type: 'integer', minimum: 1, maximum: MAX_PAGE, default: fallback }) as const;

/** Fastify validates and fills in the defaults: the handler gets a whole DashboardQuery. */
export const dashboardQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    queueOffset: offset,
    queueLimit: limit(25),
    queueFilter: { type: 'string', maxLength: 128 },
    queueSort: { type: 'string', enum: ['name', 'backlog', 'running', 'dead'], default: 'name' },
    poolOffset: offset,
    poolLimit: limit(10),
    workerOffset: offset,
    workerLimit: limit(25),
    workerState: { type: 'string', enum: ['all', 'busy'], default: 'all' },
    deadOffset: offset,
    deadLimit: limit(20),
    focus: { type: 'string', minLength: 1, maxLength: 128 },
    since: { type: 'number', minimum: 0 },
  },
} as const;
