import { RUNNING_COUNTS } from './running-counts.js';

/**
 * Renews the leases of the tasks an owner runs, and writes back what Redis
 * lost of them: a Redis that restarts empty forgets the ledger while the
 * pools run on. A lost task comes back as running under this owner, counted
 * in its queue's running count, with its key's lease unless another task took
 * the key meanwhile. A task this owner no longer holds (it ended meanwhile,
 * or another pool took it) is left as it is. The owner's lease in each queue
 * it runs tasks of is renewed too (see RUNNING_COUNTS), and the counts of
 * pools whose lease there ended long ago are deleted.
 *
 * KEYS: none
 * ARGV: owner, lease end (ms), lease length (ms), the prefix of task hashes,
 * gaffer's prefix, then the tasks as one JSON array, each [id, attempt
 * generation (a decimal string), key ('' for none), queue, type, key lease
 * name ('' for none)]
 */
export const RENEW = `${RUNNING_COUNTS}
local owner, leaseEnd, leaseMs = ARGV[1], ARGV[2], ARGV[3]
local taskPrefix, prefix = ARGV[4], ARGV[5]
local now = tonumber(leaseEnd) - tonumber(leaseMs)
local tasks = cjson.decode(ARGV[6])
local queues = {}
for item = 1, #tasks do
  local t = tasks[item]
  local id, generation, key, queue, taskType, leaseName = t[1], t[2], t[3], t[4], t[5], t[6]
  local taskKey = taskPrefix .. id
  local task = redis.call('HMGET', taskKey, 's', 'o', 'g')
  if not task[1] then
    redis.call('HSET', taskKey, 's', 'running', 'o', owner, 'g', generation, 'q', queue, 'ty', taskType, 'k', key)
    countRunning(prefix, queue, owner, 1)
    task = { 'running', owner, generation }
  end
  if task[1] == 'running' and task[2] == owner and tonumber(task[3]) == tonumber(generation) then
    queues[queue] = true
    if key ~= '' then
      local lease = redis.call('GET', leaseName)
      if not lease then redis.call('SET', leaseName, id, 'PX', leaseMs)
      elseif lease == id then redis.call('PEXPIRE', leaseName, leaseMs) end
    end
  end
end
applyRunningCounts()
for queue in pairs(queues) do
  leaseRunning(prefix, queue, owner, leaseEnd)
  forgetEndedPools(prefix, queue, now)
end
return #tasks
`;
