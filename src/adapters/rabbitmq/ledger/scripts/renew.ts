/**
 * Renews the leases of the tasks an owner runs, and writes back what Redis
 * lost of them: a Redis that restarts empty forgets the ledger while the
 * pools run on. A lost task comes back as running under this owner, in its
 * queue's running set, with its key's lease unless another task took the key
 * meanwhile. A task this owner no longer holds (it ended meanwhile, or
 * another pool took it) is left as it is.
 *
 * KEYS: none
 * ARGV: owner, lease end (ms), lease length (ms), the prefixes of task hashes
 * and running sets (by queue), then the tasks as one JSON array, each [id,
 * attempt generation (a decimal string), key ('' for none), queue, type, key
 * lease name (a dummy key, never set, for none)]
 */
export const RENEW = `
local owner, leaseEnd, leaseMs = ARGV[1], ARGV[2], ARGV[3]
local taskPrefix, runningPrefix = ARGV[4], ARGV[5]
local tasks = cjson.decode(ARGV[6])
for item = 1, #tasks do
  local t = tasks[item]
  local id, generation, key, queue, taskType, leaseName = t[1], t[2], t[3], t[4], t[5], t[6]
  local taskKey = taskPrefix .. id
  local task = redis.call('HMGET', taskKey, 's', 'o', 'g')
  if not task[1] then
    redis.call('HSET', taskKey, 's', 'running', 'o', owner, 'g', generation, 'q', queue, 'ty', taskType, 'k', key)
    task = { 'running', owner, generation }
  end
  if task[1] == 'running' and task[2] == owner and tonumber(task[3]) == tonumber(generation) then
    redis.call('ZADD', runningPrefix .. queue, leaseEnd, id)
    if key ~= '' then
      local lease = redis.call('GET', leaseName)
      if not lease then redis.call('SET', leaseName, id, 'PX', leaseMs)
      elseif lease == id then redis.call('PEXPIRE', leaseName, leaseMs) end
    end
  end
end
return #tasks
`;
