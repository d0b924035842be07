/**
 * One Lua script per queue transition, each atomic on the queue's slot and
 * timed by Redis `TIME`. Replies are flat tables whose first element says what
 * happened: `created`/`exists`/`ok`, or `notfound`, `lease` (refused, with the
 * reason) and `depfailed`.
 */
import { withPrelude } from "./common.ts"

/**
 * ARGV: keepMs, payload, priority, delayMs, maxAttempts, backoffMs, idempotencyKey ('' = none), dependsOn...
 * → {'created'|'exists', taskId, state} | {'notfound', dep} | {'depfailed', dep, state}
 */
export const CREATE = withPrelude(`
local now = clock()
local idem = ARGV[7]
if idem ~= '' then
  local existing = redis.call('HGET', kIdem, idem)
  if existing then
    local st = redis.call('HGET', tkey(existing), 'state')
    if st then return { 'exists', existing, st } end
  end
end
local deps, pending = {}, {}
for i = 8, #ARGV do
  local dep = ARGV[i]
  local st = redis.call('HGET', tkey(dep), 'state')
  if not st then return { 'notfound', dep } end
  if st == 'failed' or st == 'cancelled' then return { 'depfailed', dep, st } end
  deps[#deps + 1] = dep
  if st ~= 'completed' then pending[#pending + 1] = dep end
end
local id = 't' .. redis.call('HINCRBY', kMeta, 'ids', 1)
local h = tkey(id)
local delay = tonumber(ARGV[4])
-- The new hash is written in one HSET, its state included (what toWaiting/toDelayed would set).
local fields = { 'payload', ARGV[2], 'priority', ARGV[3], 'attempts', '0', 'maxAttempts', ARGV[5],
  'backoffMs', ARGV[6], 'createdAt', fmt(now), 'updatedAt', fmt(now) }
local function add(k, v)
  fields[#fields + 1] = k
  fields[#fields + 1] = v
end
if idem ~= '' then
  add('idem', idem)
  redis.call('HSET', kIdem, idem, id)
end
if #deps > 0 then add('deps', table.concat(deps, ',')) end
if #pending > 0 then
  if delay > 0 then add('runAt', fmt(now + delay)) end
  add('state', 'blocked')
  add('pending', #pending)
  redis.call('HSET', h, unpack(fields))
  redis.call('ZADD', kBlocked, idNum(id), id)
  changed()
  for _, dep in ipairs(pending) do redis.call('SADD', dkey(dep), id) end
  return { 'created', id, 'blocked' }
end
if delay > 0 then
  add('state', 'delayed')
  add('runAt', fmt(now + delay))
  redis.call('HSET', h, unpack(fields))
  redis.call('ZADD', kDelayed, fmt(now + delay), id)
  changed()
  return { 'created', id, 'delayed' }
end
add('state', 'waiting')
redis.call('HSET', h, unpack(fields))
enqueue(id, ARGV[3])
changed()
return { 'created', id, 'waiting' }
`)

/**
 * ARGV: keepMs, worker, leaseMs, count, budgetBytes, token1..tokenN
 * → {'ok', {taskId, token, payload, attempt, maxAttempts, leaseExpiresAt}...}
 */
export const CLAIM = withPrelude(`
local now = clock()
maintain(now, 100)
local worker, leaseMs, count, budget = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local out, used = { 'ok' }, 0
while #out - 1 < count do
  local top = redis.call('ZRANGE', kWaiting, 0, 0)
  local id = top[1]
  if not id then break end
  local h = tkey(id)
  local f = redis.call('HMGET', h, 'state', 'payload', 'maxAttempts', 'attempts')
  if f[1] ~= 'waiting' then
    redis.call('ZREM', kWaiting, id)
  else
    if #out > 1 and used + #f[2] > budget then break end
    used = used + #f[2]
    redis.call('ZREM', kWaiting, id)
    local attempt = (tonumber(f[4]) or 0) + 1
    local token = ARGV[5 + #out] .. '.' .. attempt
    local exp = now + leaseMs
    redis.call('HSET', h, 'attempts', attempt, 'state', 'active', 'token', token, 'worker', worker,
      'leaseMs', fmt(leaseMs), 'leaseExpiresAt', fmt(exp), 'claimedAt', fmt(now), 'updatedAt', fmt(now))
    redis.call('ZADD', kActive, fmt(exp), id)
    out[#out + 1] = { id, token, f[2], attempt, tonumber(f[3]), exp }
    changed()
  end
end
return out
`)

/** ARGV: keepMs, taskId, token, leaseMs ('' = the claim's) → {'ok', leaseExpiresAt} | refusal */
export const HEARTBEAT = withPrelude(`
local now = clock()
local id = ARGV[2]
local h = tkey(id)
local refused = checkLease(id, h, ARGV[3], now)
if refused then return refused end
local leaseMs = tonumber(ARGV[4]) or tonumber(redis.call('HGET', h, 'leaseMs'))
local exp = now + leaseMs
redis.call('HSET', h, 'leaseExpiresAt', fmt(exp), 'leaseMs', fmt(leaseMs), 'updatedAt', fmt(now))
redis.call('ZADD', kActive, fmt(exp), id)
return { 'ok', exp }
`)

/** ARGV: keepMs, taskId, token, result ('' = none) → {'ok', finishedAt, {unblocked...}} | refusal */
export const COMPLETE = withPrelude(`
local now = clock()
local id = ARGV[2]
local h = tkey(id)
local f = redis.call('HMGET', h, 'state', 'token', 'finishedAt', 'leaseExpiresAt')
if f[1] == 'completed' and f[2] == ARGV[3] then return { 'ok', tonumber(f[3]), {} } end
local refused = leaseRefusal(id, h, ARGV[3], now, f[1], f[2], f[4])
if refused then return refused end
redis.call('ZREM', kActive, id)
finish(id, h, 'completed', now, ARGV[4] ~= '' and { 'result', ARGV[4] } or nil, { 'error' })
return { 'ok', now, releaseDependents(id, now) }
`)

/** ARGV: keepMs, taskId, token, error, retry ('1'|'0') → {'ok', status, runAt} | refusal */
export const FAIL = withPrelude(`
local now = clock()
local id = ARGV[2]
local h = tkey(id)
local refused = checkLease(id, h, ARGV[3], now)
if refused then return refused end
local status, runAt = retryOrFail(id, h, now, ARGV[4], ARGV[5] == '1', true)
return { 'ok', status, runAt }
`)

/** ARGV: keepMs, taskId → {'ok', cancelled (1|0), previousStatus} | {'notfound'} */
export const CANCEL = withPrelude(`
local now = clock()
local id = ARGV[2]
local h = tkey(id)
local st = redis.call('HGET', h, 'state')
if not st then return { 'notfound' } end
if st == 'waiting' or st == 'delayed' or st == 'blocked' or st == 'active' then
  redis.call('ZREM', kIndex[st], id)
  redis.call('HDEL', h, 'token')
  finish(id, h, 'cancelled', now)
  failDependents(id, 'was cancelled', now)
  return { 'ok', 1, st }
end
return { 'ok', 0, st }
`)

/**
 * ARGV: keepMs, batch → {'ok', moved, nextDueMs} (runs the same housekeeping a claim does; nextDueMs
 * is -1 when nothing will be due without new work)
 */
export const SWEEP = withPrelude(`
local now = clock()
local moved = maintain(now, tonumber(ARGV[2]))
return { 'ok', moved, nextDue(now) }
`)

/** ARGV: keepMs (unused) → counts in STATUSES order, read in one atomic step */
export const STATS = withPrelude(`
return {
  redis.call('ZCARD', kWaiting), redis.call('ZCARD', kDelayed), redis.call('ZCARD', kBlocked),
  redis.call('ZCARD', kActive), redis.call('ZCARD', kIndex.completed), redis.call('ZCARD', kIndex.failed),
  redis.call('ZCARD', kIndex.cancelled)
}
`)

const SUMMARY = `
local function summary(id)
  local f = redis.call('HMGET', tkey(id), 'state', 'priority', 'attempts', 'maxAttempts', 'createdAt', 'updatedAt',
    'runAt', 'leaseExpiresAt', 'worker', 'error')
  if not f[1] then return nil end
  for i = 1, 10 do if not f[i] then f[i] = '' end end
  if #f[10] > 200 then f[10] = string.sub(f[10], 1, 197) .. '...' end
  return { id, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10] }
end
`

/** The fields of a summary row, after the taskId, in the order SUMMARY returns them. */
export const SUMMARY_FIELDS = [
  "state",
  "priority",
  "attempts",
  "maxAttempts",
  "createdAt",
  "updatedAt",
  "runAt",
  "leaseExpiresAt",
  "worker",
  "error"
] as const

/** ARGV: keepMs, status, start, count, descending ('1'|'0') → {total, row...} (read only) */
export const LIST = withPrelude(`${SUMMARY}
local key = kIndex[ARGV[2]]
local start, count = tonumber(ARGV[3]), tonumber(ARGV[4])
local ids
if ARGV[5] == '1' then
  ids = redis.call('ZREVRANGE', key, start, start + count - 1)
else
  ids = redis.call('ZRANGE', key, start, start + count - 1)
end
local out = { redis.call('ZCARD', key), #ids }
for _, id in ipairs(ids) do
  local row = summary(id)
  if row then out[#out + 1] = row end
end
return out
`)

/** ARGV: keepMs, limit → {row...}, newest first (walks the id counter down; read only) */
export const NEWEST = withPrelude(`${SUMMARY}
local limit = tonumber(ARGV[2])
local n = tonumber(redis.call('HGET', kMeta, 'ids') or '0')
local out, scanned = {}, 0
while n > 0 and #out < limit and scanned < limit * 20 do
  local row = summary('t' .. n)
  if row then out[#out + 1] = row end
  n = n - 1
  scanned = scanned + 1
end
return out
`)
