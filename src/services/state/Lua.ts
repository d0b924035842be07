/**
 * The Lua scripts of the State service's Redis layer. Documents are stored as the
 * JSON text the server produced (never decoded by cjson, whose empty-array and
 * number handling would change them); scripts only compare versions, stamp time
 * (Redis TIME, one clock for every server) and move strings around.
 *
 * Key layout (all keys of a namespace share the hash tag {namespace}):
 *   state:{ns}:doc:<key>   hash  v = JSON text, n = version, t = updatedAt (ms)
 *   state:{ns}:hist:<key>  list  newest first, {"version","updatedAt","value"} JSON
 *   state:{ns}:index       zset  every key of the namespace (score 0, by lex order)
 *   state:{ns}:expiry      zset  keys of the documents that have a TTL (score = expiresAt, ms)
 *   state:lock:{name}       hash  owner, token (expires with the lock's TTL)
 *   state:lock:{name}:fence string the last fencing token issued (never expires)
 */

const now = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

/** Index entries of expired documents one write removes at most. */
export const PRUNE_BATCH = 100

/** The pruning step of WRITE (KEYS[3] index, KEYS[4] expiry, ARGV[8] doc key prefix; `now` is set before it). */
const prune = `
local gone = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, ${PRUNE_BATCH})
for _, m in ipairs(gone) do
  if redis.call('EXISTS', ARGV[8] .. m) == 0 then redis.call('ZREM', KEYS[3], m) end
  redis.call('ZREM', KEYS[4], m)
end
`

/**
 * Write a document if its version matches, then drop from the index (at most
 * PRUNE_BATCH of) the namespace's documents whose TTL ran out: reads never write,
 * so this is where expired documents leave the index.
 * KEYS: doc, history, index, expiry. ARGV: key, json, expected ('' = any), ttl ('persist' | 'keep' | ms),
 * history length, channel, message, doc key prefix (with the client's key prefix).
 * Returns {0, current} on a mismatch, else {1, version, updatedAt, expiresAt (-1 = none)}.
 */
export const WRITE = `
local cur = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
if ARGV[3] ~= '' and tonumber(ARGV[3]) ~= cur then return {0, cur} end
${now}
local v = string.format('%d', cur + 1)
local at = string.format('%d', now)
if cur == 0 then redis.call('DEL', KEYS[2]) end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'n', v, 't', at)
redis.call('LPUSH', KEYS[2], '{"version":' .. v .. ',"updatedAt":' .. at .. ',"value":' .. ARGV[2] .. '}')
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[5]) - 1)
if ARGV[4] == 'persist' then
  redis.call('PERSIST', KEYS[1])
  redis.call('PERSIST', KEYS[2])
elseif ARGV[4] ~= 'keep' then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
local pttl = redis.call('PTTL', KEYS[1])
local exp = -1
if pttl > 0 then exp = now + pttl end
redis.call('ZADD', KEYS[3], 0, ARGV[1])
if exp > 0 then redis.call('ZADD', KEYS[4], exp, ARGV[1]) else redis.call('ZREM', KEYS[4], ARGV[1]) end
${prune}
redis.call('PUBLISH', ARGV[6], ARGV[7])
return {1, cur + 1, now, exp}
`

/**
 * Read a document. KEYS: doc. Returns nil when missing, else {json, version, updatedAt, expiresAt (-1 = none)}.
 */
export const GET = `
local r = redis.call('HMGET', KEYS[1], 'v', 'n', 't')
if not r[2] then return nil end
local pttl = redis.call('PTTL', KEYS[1])
local exp = -1
if pttl > 0 then
  ${now}
  exp = now + pttl
end
return {r[1], tonumber(r[2]), tonumber(r[3]), exp}
`

/**
 * Delete a document and its history if its version matches.
 * KEYS: doc, history, index, expiry. ARGV: key, expected ('' = any), channel, message.
 * Returns {0, current} on a mismatch, else {1, deleted version (0 = there was none)}.
 */
export const DELETE = `
local cur = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
if ARGV[2] ~= '' and tonumber(ARGV[2]) ~= cur then return {0, cur} end
if cur == 0 then return {1, 0} end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return {1, cur}
`

/**
 * One page of a namespace's keys in byte order, skipping index entries whose
 * document expired (it only reads: writes prune them, see WRITE). KEYS: index. ARGV: lex min, lex max, wanted count, doc key
 * prefix (with the client's key prefix), most index entries to examine.
 * Returns {exhausted (1/0), last examined key, {key, version, updatedAt, ...}}.
 */
export const LIST = `
local want = tonumber(ARGV[3])
local budget = tonumber(ARGV[5])
local min = ARGV[1]
local last = ''
local found = 0
local out = {}
local exhausted = 0
while found < want and budget > 0 do
  local batch = redis.call('ZRANGEBYLEX', KEYS[1], min, ARGV[2], 'LIMIT', 0, math.min(budget, 100))
  if #batch == 0 then
    exhausted = 1
    break
  end
  for _, m in ipairs(batch) do
    budget = budget - 1
    last = m
    min = '(' .. m
    local r = redis.call('HMGET', ARGV[4] .. m, 'n', 't')
    if r[1] then
      found = found + 1
      out[#out + 1] = m
      out[#out + 1] = r[1]
      out[#out + 1] = r[2]
      if found >= want then break end
    end
  end
end
return {exhausted, last, out}
`

/**
 * Versions of a document, newest first. KEYS: doc, history. ARGV: before version
 * ('' = from the current one), count. Returns {current version, {entry JSON...}}.
 */
export const HISTORY = `
local cur = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
if cur == 0 then return {0, {}} end
local start = 0
if ARGV[1] ~= '' then start = cur - tonumber(ARGV[1]) + 1 end
if start < 0 then start = 0 end
return {cur, redis.call('LRANGE', KEYS[2], start, start + tonumber(ARGV[2]) - 1)}
`

/**
 * Take a lock, or renew it for its current owner. KEYS: lock, fence. ARGV: owner, ttl ms.
 * Returns {acquired (1/0), fencing token (0 when not acquired), holder, expiresAt}.
 */
export const LOCK_ACQUIRE = `
${now}
local h = redis.call('HMGET', KEYS[1], 'owner', 'token')
if not h[1] then
  local token = redis.call('INCR', KEYS[2])
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', token)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, token, ARGV[1], now + tonumber(ARGV[2])}
end
if h[1] == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, tonumber(h[2]), ARGV[1], now + tonumber(ARGV[2])}
end
return {0, 0, h[1], now + redis.call('PTTL', KEYS[1])}
`

/**
 * Release a lock held by this owner with this token. KEYS: lock. ARGV: owner, token.
 * Returns {1} released, {0} already free, {-1, holder} held by someone else or with another token.
 */
export const LOCK_RELEASE = `
local h = redis.call('HMGET', KEYS[1], 'owner', 'token')
if not h[1] then return {0} end
if h[1] ~= ARGV[1] or h[2] ~= ARGV[2] then return {-1, h[1]} end
redis.call('DEL', KEYS[1])
return {1}
`
