/**
 * Where the store keeps things in Redis. Every key starts with the prefix, so
 * several deployments (and tests) can share one server, and `SCAN prefix*`
 * finds all of one deployment's data.
 *
 * - `task:<id>`        hash, one task record; expires once final (see scripts/settle.ts). Under RabbitMQ the
 *                      broker's ledger keeps its fields of the task in the same hash (short names: s, q, ty, g, k,
 *                      o, c, u; see rabbitmq/ledger), so that ending a task writes one hash, not two
 * - `tasks:final`      sorted set of final task ids scored by finishedAt, for prune
 * - `retention-ms`     the maxAgeMs of the last prune, the TTL of final records
 * - `final`            pub/sub channel: ids of records that just became final
 * - `pool:<id>`        string, a pool's JSON snapshot, expiring with its heartbeat
 * - `pools`            set of pool ids, an index to list the pools without SCAN
 * - `decisions`        list, the newest decisions of all pools first
 * - `decisions:<pool>` list, the newest decisions of one pool first; expires after the retention once the pool stops deciding
 * - `paused-queues`    set of the queues pools take no tasks from
 * - `pool-limits`      hash, pool id to its {min, max} override as JSON
 */
export class StoreKeys {
  readonly taskPrefix: string;
  readonly finalTasks: string;
  readonly retention: string;
  readonly finalChannel: string;
  readonly poolPrefix: string;
  readonly pools: string;
  readonly decisions: string;
  readonly pausedQueues: string;
  readonly poolLimits: string;

  constructor(readonly prefix: string) {
    this.taskPrefix = `${prefix}task:`;
    this.finalTasks = `${prefix}tasks:final`;
    this.retention = `${prefix}retention-ms`;
    this.finalChannel = `${prefix}final`;
    this.poolPrefix = `${prefix}pool:`;
    this.pools = `${prefix}pools`;
    this.decisions = `${prefix}decisions`;
    this.pausedQueues = `${prefix}paused-queues`;
    this.poolLimits = `${prefix}pool-limits`;
  }

  task(id: string): string {
    return this.taskPrefix + id;
  }

  pool(id: string): string {
    return this.poolPrefix + id;
  }

  poolDecisions(poolId: string): string {
    return `${this.decisions}:${poolId}`;
  }
}
