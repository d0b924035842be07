/**
 * The stream reads on Redis as Lua scripts that look at entries a few at a time
 * and stop at the result's item and byte budget before anything is sent
 * (`LUA_STREAM` counts as StreamBudget.ts does). The reads that deliver to a
 * consumer group (XREADGROUP, XAUTOCLAIM) first choose how many entries fit and
 * then deliver exactly those, so nothing becomes pending on a consumer that the
 * result does not show.
 */
import { LUA_STREAM } from "./StreamBudget.ts"

/**
 * Entries looked at per step: 8 at first, then as many as the sizes seen leave
 * room for. `takeall` puts the entries of one step that fit into `out` (the
 * first one cut when nothing was taken before: `empty`) and returns how many it
 * took, the bytes used, whether it stopped (an entry left out or cut), the last
 * id taken and the biggest cost seen.
 */
const STEP = `
local function nextstep(left, biggest)
  return math.max(1, math.min(64, math.floor(left / math.max(1, biggest))))
end
local function takeall(out, es, used, budget, empty)
  local taken, biggest, last = 0, 1, nil
  for _, e in ipairs(es) do
    local c = ecost(e)
    if used + c > budget and (taken > 0 or not empty) then return taken, used, true, last, biggest end
    if used + c <= budget then putentry(out, e, 0, budget) else putentry(out, e, 1, budget) end
    used = used + c
    taken = taken + 1
    last = e[1]
    if c > biggest then biggest = c end
    if used > budget then return taken, used, true, last, biggest end
  end
  return taken, used, false, last, biggest
end
`

/**
 * XRANGE/XREVRANGE page. KEYS[1]; ARGV: command, first bound, second bound (as
 * the command takes them), count, budget. Returns {more, n, entries…}.
 */
export const XRANGE_LUA = `${LUA_STREAM}${STEP}
local cmd, a, b = ARGV[1], ARGV[2], ARGV[3]
local count, budget = tonumber(ARGV[4]), tonumber(ARGV[5])
local out = {0, 0}
local n, used, step, stop = 0, 0, 8, false
while not stop and n < count do
  local want = math.min(step, count - n)
  local es = redis.call(cmd, KEYS[1], a, b, 'COUNT', want)
  local taken, last, biggest
  taken, used, stop, last, biggest = takeall(out, es, used, budget, n == 0)
  n = n + taken
  if last then a = '(' .. last end
  if not stop and #es < want then
    out[2] = n
    return out
  end
  step = nextstep(budget - used, biggest)
end
out[2] = n
if #redis.call(cmd, KEYS[1], a, b, 'COUNT', 1) > 0 then out[1] = 1 end
return out
`

/**
 * XREAD without blocking, for several streams sharing the item and byte budget.
 * KEYS: the streams; ARGV: count per stream, items in all, budget, then one id
 * per stream ('$': its last entry now). Returns per stream {after, more, n,
 * entries…}, after being the id resolved for '$'.
 */
export const XREAD_LUA = `${LUA_STREAM}${STEP}
local count, max, budget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
local total, used, stop = 0, 0, false
for k, key in ipairs(KEYS) do
  local after = ARGV[3 + k]
  if after == '$' then
    local last = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
    if #last > 0 then after = last[1][1] else after = '0-0' end
  end
  out[#out + 1] = after
  local moreAt = #out + 1
  out[moreAt] = 0
  local nAt = #out + 1
  out[nAt] = 0
  local from, n, step, full = '(' .. after, 0, 8, stop
  while not full do
    local want = math.min(step, count - n, max - total)
    if want <= 0 then
      full = true
      break
    end
    local es = redis.call('XRANGE', key, from, '+', 'COUNT', want)
    local taken, last, biggest
    taken, used, full, last, biggest = takeall(out, es, used, budget, total == 0)
    n = n + taken
    total = total + taken
    if last then from = '(' .. last end
    if full then stop = true end
    if not full and #es < want then break end
    step = nextstep(budget - used, biggest)
  end
  out[nAt] = n
  if full and #redis.call('XRANGE', key, from, '+', 'COUNT', 1) > 0 then out[moreAt] = 1 end
end
return out
`

/**
 * Choosing before delivering: `choose` adds one entry's cost to n entries using
 * `used` bytes, and says whether to stop (it does not fit) and whether it is cut
 * (the first one, alone over the budget); `putall` puts the delivered entries
 * into `out` (cut when `cut`) and returns how many.
 */
const CHOOSE = `
local function choose(cost, n, used, budget)
  if used + cost <= budget then return n + 1, used + cost, false, false end
  if n == 0 then return 1, used + cost, true, true end
  return n, used, false, true
end
local function putall(out, es, cut, budget)
  local kind = 0
  if cut then kind = 1 end
  for _, e in ipairs(es) do putentry(out, e, kind, budget) end
  return #es
end
`

/**
 * XREADGROUP '>' of only what fits. KEYS[1]; ARGV: group, consumer, count,
 * budget, '1' for NOACK. Returns {last delivered id before, more, n, entries…}.
 */
export const XREADGROUP_NEW_LUA = `${LUA_STREAM}${STEP}${CHOOSE}
local key, group, consumer = KEYS[1], ARGV[1], ARGV[2]
local count, budget, noack = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5] == '1'
local nogroup = "NOGROUP No such key or consumer group '" .. group .. "'"
local t = redis.call('TYPE', key)['ok']
if t == 'none' then return redis.error_reply(nogroup) end
if t ~= 'stream' then return redis.error_reply('WRONGTYPE Operation against a key holding the wrong kind of value') end
local last
for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do
  local name, id
  for i = 1, #g, 2 do
    if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then id = g[i + 1] end
  end
  if name == group then last = id end
end
if not last then return redis.error_reply(nogroup) end
local from, n, used, step, cut, stop = '(' .. last, 0, 0, 8, false, false
while not stop and n < count do
  local want = math.min(step, count - n)
  local es = redis.call('XRANGE', key, from, '+', 'COUNT', want)
  local biggest = 1
  for _, e in ipairs(es) do
    local c = ecost(e)
    n, used, cut, stop = choose(c, n, used, budget)
    if stop and not cut then break end
    from = '(' .. e[1]
    if c > biggest then biggest = c end
    if stop then break end
  end
  if not stop and #es < want then break end
  step = nextstep(budget - used, biggest)
end
local args = {'GROUP', group, consumer, 'COUNT', math.max(n, 1)}
if noack then args[#args + 1] = 'NOACK' end
args[#args + 1] = 'STREAMS'
args[#args + 1] = key
args[#args + 1] = '>'
local r = redis.call('XREADGROUP', unpack(args))
local out = {last, 0, 0}
if r then out[3] = putall(out, r[1][2], cut, budget) end
if #redis.call('XRANGE', key, from, '+', 'COUNT', 1) > 0 then out[2] = 1 end
return out
`

/**
 * XREADGROUP of the consumer's own pending entries after an id, only what fits.
 * KEYS[1]; ARGV: group, consumer, after, count, budget. Returns {more, n, entries…}.
 */
export const XREADGROUP_PENDING_LUA = `${LUA_STREAM}${CHOOSE}
local key, group, consumer, after = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local count, budget = tonumber(ARGV[4]), tonumber(ARGV[5])
local pend = redis.call('XPENDING', key, group, '(' .. after, '+', count + 1, consumer)
local n, used, cut, stop = 0, 0, false, false
for i = 1, math.min(#pend, count) do
  local id = pend[i][1]
  local e = redis.call('XRANGE', key, id, id)[1] or {id, false}
  n, used, cut, stop = choose(ecost(e), n, used, budget)
  if stop then break end
end
local r = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', math.max(n, 1), 'STREAMS', key, after)
local out = {0, 0}
if r then out[2] = putall(out, r[1][2], cut, budget) end
if n < #pend then out[1] = 1 end
return out
`

/**
 * XAUTOCLAIM of only what fits: the pending entries XAUTOCLAIM would visit
 * (count × 10 from start) are looked at first (deleted ones count, as they do
 * for XAUTOCLAIM; idle ones are taken while they fit), then XAUTOCLAIM takes
 * that many. KEYS[1]; ARGV: group, consumer, min idle ms, start, count, budget.
 * Returns {cursor, n, entries…, deleted ids…}.
 */
export const XAUTOCLAIM_LUA = `${LUA_STREAM}${CHOOSE}
local key, group, consumer = KEYS[1], ARGV[1], ARGV[2]
local minIdle, start = tonumber(ARGV[3]), ARGV[4]
local count, budget = tonumber(ARGV[5]), tonumber(ARGV[6])
local pend = redis.call('XPENDING', key, group, start, '+', count * 10)
local n, used, cut, stop = 0, 0, false, false
for i = 1, #pend do
  local id, idle = pend[i][1], pend[i][3]
  local e = redis.call('XRANGE', key, id, id)[1]
  if not e then
    n, used, cut, stop = choose(jsize(id) + 2, n, used, budget)
  elseif idle >= minIdle then
    n, used, cut, stop = choose(ecost(e), n, used, budget)
  end
  if stop or n >= count then break end
end
local take = n
if take == 0 then take = count end
local r = redis.call('XAUTOCLAIM', key, group, consumer, minIdle, start, 'COUNT', take)
local out = {r[1], 0}
out[2] = putall(out, r[2], cut, budget)
for _, id in ipairs(r[3] or {}) do out[#out + 1] = id end
return out
`
