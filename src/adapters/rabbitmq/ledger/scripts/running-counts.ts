/** How long after its lease ended a pool's count and lease are kept (uncounted) before a renewal of another pool deletes them. */
export const RUNNING_COUNT_GRACE_MS = 10 * 60_000;

/** The two hashes of a queue, after gaffer's prefix (see RUNNING_COUNTS). */
const COUNTS = 'running-by-pool:';
const LEASES = 'lease-by-pool:';

export function runningCountKeys(prefix: string, queue: string): { counts: string; leases: string } {
  return { counts: `${prefix}${COUNTS}${queue}`, leases: `${prefix}${LEASES}${queue}` };
}

/**
 * How many tasks each pool runs, by queue: a count per pool (owner), not an
 * entry per task, so that a task's claim and end cost Redis nothing here and
 * a batch of them one write per pool and queue. Two hashes per queue:
 * `running-by-pool:<queue>` (owner to count) and `lease-by-pool:<queue>`
 * (owner to the end of its latest lease, set by its claims and renewals).
 * A pool's count is its tasks whose state is running under it: every script
 * that makes a task running or ends its run changes the count in the same
 * step. A pool that dies keeps its count only until its lease ends.
 *
 * Lua functions, all taking gaffer's prefix:
 * - countRunning(prefix, queue, owner, n): adds n to the owner's count, once
 *   the script calls applyRunningCounts() (one HINCRBY per pool and queue);
 * - leaseRunning(prefix, queue, owner, leaseEnd): the owner's lease in queue;
 * - forgetEndedPools(prefix, queue, now): deletes the count and lease of the
 *   pools whose lease ended RUNNING_COUNT_GRACE_MS before `now` or earlier.
 */
export const RUNNING_COUNTS = `
local runningChanges = {}
local function countRunning(prefix, queue, owner, n)
  local key = prefix .. '${COUNTS}' .. queue
  local byOwner = runningChanges[key]
  if not byOwner then
    byOwner = {}
    runningChanges[key] = byOwner
  end
  byOwner[owner] = (byOwner[owner] or 0) + n
end
local function applyRunningCounts()
  for key, byOwner in pairs(runningChanges) do
    for owner, n in pairs(byOwner) do
      if n ~= 0 then redis.call('HINCRBY', key, owner, n) end
    end
  end
  runningChanges = {}
end
local function leaseRunning(prefix, queue, owner, leaseEnd)
  redis.call('HSET', prefix .. '${LEASES}' .. queue, owner, leaseEnd)
end
local function forgetEndedPools(prefix, queue, now)
  local leases = redis.call('HGETALL', prefix .. '${LEASES}' .. queue)
  for index = 1, #leases, 2 do
    if tonumber(leases[index + 1]) + ${RUNNING_COUNT_GRACE_MS} < now then
      redis.call('HDEL', prefix .. '${LEASES}' .. queue, leases[index])
      redis.call('HDEL', prefix .. '${COUNTS}' .. queue, leases[index])
    end
  end
end
`;
