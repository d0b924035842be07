/**
 * Lua shared by every task script: the key layout of one queue (KEYS[1] is the
 * queue's base key `task:{queue}`, so every key built from it sits in the same
 * Cluster slot), Redis time, and the state transitions. Each script is the
 * parts of this prelude it uses followed by its own body; ARGV[1] is always
 * the retention in ms.
 *
 * Numbers go back to Redis through `fmt` (rounded, then string.format %d): Lua's
 * tostring would print 15-digit scores in exponent form and lose digits, and
 * %.0f goes through the C library's float printing, about 1 µs a number.
 *
 * Every change of a task's state (and a retention cut) calls `changed()`, which
 * publishes the queue's name once per script on `<prefix>task:changes` (the
 * prefix is what precedes `task:{queue}` in KEYS[1]), for resource subscribers.
 *
 * A script carries only the part of the prelude it uses (`withPrelude`): Lua
 * runs a script's whole text on every call, and making the closures of the
 * helpers it never calls cost a few µs of Redis time per call.
 */
export const PRELUDE = `
local base = KEYS[1]
local kWaiting = base .. ':waiting'
local kDelayed = base .. ':delayed'
local kActive = base .. ':active'
local kBlocked = base .. ':blocked'
local kMeta = base .. ':meta'
local kIdem = base .. ':idem'
local kIndex = {
  waiting = kWaiting, delayed = kDelayed, active = kActive, blocked = kBlocked,
  completed = base .. ':completed', failed = base .. ':failed', cancelled = base .. ':cancelled'
}
local keepMs = tonumber(ARGV[1])
local PRIORITY_SPAN = 1e12
local MAX_RETRY_DELAY = 86400000
local BACKSTOP_MS = 86400000

local function tkey(id) return base .. ':t:' .. id end
local function dkey(id) return base .. ':deps:' .. id end
local function fmt(n) return string.format('%d', math.floor(n + 0.5)) end
local function idNum(id) return tonumber(string.sub(id, 2)) or 0 end
local function byId(a, b) return idNum(a) < idNum(b) end

local published = false
local function changed()
  if published then return end
  published = true
  local prefix, queue = string.match(base, '^(.*)task:{(.*)}$')
  if queue then redis.call('PUBLISH', prefix .. 'task:changes', queue) end
end

local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Queues a task among the waiting: by priority, first come first served within one.
local function enqueue(id, priority)
  local seq = redis.call('HINCRBY', kMeta, 'seq', 1)
  redis.call('ZADD', kWaiting, fmt((tonumber(priority) or 5) * PRIORITY_SPAN + seq), id)
end

local function toWaiting(id, h, now)
  enqueue(id, redis.call('HGET', h, 'priority'))
  redis.call('HSET', h, 'state', 'waiting', 'updatedAt', fmt(now))
  redis.call('HDEL', h, 'runAt')
  changed()
end

local function toDelayed(id, h, runAt, now)
  redis.call('ZADD', kDelayed, fmt(runAt), id)
  redis.call('HSET', h, 'state', 'delayed', 'runAt', fmt(runAt), 'updatedAt', fmt(now))
  changed()
end

-- A task's end; \`set\` (field, value, ...) and \`drop\` (fields), when given, change the hash in the same calls.
local function finish(id, h, state, now, set, drop)
  local fields = { 'state', state, 'finishedAt', fmt(now), 'updatedAt', fmt(now) }
  if set then for _, v in ipairs(set) do fields[#fields + 1] = v end end
  redis.call('HSET', h, unpack(fields))
  redis.call('HDEL', h, 'leaseExpiresAt', 'leaseMs', 'runAt', 'pending', unpack(drop or {}))
  redis.call('ZADD', kIndex[state], fmt(now), id)
  -- The sweep removes finished tasks after keepMs; the TTL only backs it up.
  redis.call('PEXPIRE', h, fmt(keepMs + BACKSTOP_MS))
  changed()
end

-- A failed or cancelled task fails every task waiting on it, transitively.
local function failDependents(id, why, now)
  local queue, reasons, i = { id }, { why }, 1
  while i <= #queue do
    local cur, curWhy = queue[i], reasons[i]
    i = i + 1
    local dk = dkey(cur)
    local ds = redis.call('SMEMBERS', dk)
    if #ds > 0 then redis.call('DEL', dk) end
    table.sort(ds, byId)
    for _, d in ipairs(ds) do
      local dh = tkey(d)
      if redis.call('HGET', dh, 'state') == 'blocked' then
        redis.call('ZREM', kBlocked, d)
        redis.call('HSET', dh, 'error', 'DependencyFailed: task ' .. cur .. ' ' .. curWhy)
        finish(d, dh, 'failed', now)
        queue[#queue + 1] = d
        reasons[#reasons + 1] = 'failed'
      end
    end
  end
end

-- A completed task releases each dependent whose last pending dependency it was, exactly once
-- (the dependents set is deleted here and a task completes only once).
local function releaseDependents(id, now)
  local dk = dkey(id)
  local ds = redis.call('SMEMBERS', dk)
  if #ds == 0 then return {} end
  redis.call('DEL', dk)
  table.sort(ds, byId)
  local out = {}
  for _, d in ipairs(ds) do
    local dh = tkey(d)
    if redis.call('HGET', dh, 'state') == 'blocked' then
      if redis.call('HINCRBY', dh, 'pending', -1) <= 0 then
        redis.call('ZREM', kBlocked, d)
        redis.call('HDEL', dh, 'pending')
        local runAt = tonumber(redis.call('HGET', dh, 'runAt') or '0')
        if runAt > now then toDelayed(d, dh, runAt, now) else toWaiting(d, dh, now) end
        out[#out + 1] = d
      end
    end
  end
  return out
end

-- End an active task's lease: back to waiting (or delayed by backoff) while attempts remain, else failed.
local function retryOrFail(id, h, now, err, retry, useBackoff)
  redis.call('ZREM', kActive, id)
  redis.call('HDEL', h, 'token', 'leaseExpiresAt', 'leaseMs')
  redis.call('HSET', h, 'error', err)
  local f = redis.call('HMGET', h, 'attempts', 'maxAttempts', 'backoffMs')
  local attempts, maxAttempts, backoff = tonumber(f[1]) or 0, tonumber(f[2]) or 1, tonumber(f[3]) or 0
  if retry and attempts < maxAttempts then
    local delay = 0
    if useBackoff and backoff > 0 then
      delay = math.min(backoff * math.pow(2, math.max(0, attempts - 1)), MAX_RETRY_DELAY)
    end
    if delay > 0 then
      toDelayed(id, h, now + delay, now)
      return 'delayed', now + delay
    end
    toWaiting(id, h, now)
    return 'waiting', 0
  end
  finish(id, h, 'failed', now)
  failDependents(id, 'failed', now)
  return 'failed', 0
end

-- Bounded housekeeping: promote due delayed tasks, reclaim expired leases, drop finished tasks past retention.
local function maintain(now, batch)
  local due = redis.call('ZRANGEBYSCORE', kDelayed, '-inf', fmt(now), 'LIMIT', 0, batch)
  for _, id in ipairs(due) do
    redis.call('ZREM', kDelayed, id)
    local h = tkey(id)
    if redis.call('HGET', h, 'state') == 'delayed' then toWaiting(id, h, now) end
  end
  local expired = redis.call('ZRANGEBYSCORE', kActive, '-inf', fmt(now), 'LIMIT', 0, batch)
  for _, id in ipairs(expired) do
    local h = tkey(id)
    if redis.call('HGET', h, 'state') == 'active' then
      local worker = redis.call('HGET', h, 'worker') or '?'
      retryOrFail(id, h, now, 'lease expired without heartbeat or completion (worker ' .. worker .. ')', true, false)
    else
      redis.call('ZREM', kActive, id)
    end
  end
  local cutoff = fmt(now - keepMs)
  for _, state in ipairs({ 'completed', 'failed', 'cancelled' }) do
    local old = redis.call('ZRANGEBYSCORE', kIndex[state], '-inf', cutoff, 'LIMIT', 0, batch)
    for _, id in ipairs(old) do
      local h = tkey(id)
      local idem = redis.call('HGET', h, 'idem')
      if idem and redis.call('HGET', kIdem, idem) == id then redis.call('HDEL', kIdem, idem) end
      redis.call('DEL', h, dkey(id))
      redis.call('ZREM', kIndex[state], id)
      changed()
    end
  end
  return #due + #expired
end

-- Milliseconds until the queue next needs housekeeping (a delayed task due, a lease ending, a finished
-- task leaving retention), or -1 when nothing will ever be due without new work.
local function nextDue(now)
  local at = nil
  local function consider(key, offset)
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if first[2] then
      local t = tonumber(first[2]) + offset
      if at == nil or t < at then at = t end
    end
  end
  consider(kDelayed, 0)
  consider(kActive, 0)
  for _, state in ipairs({ 'completed', 'failed', 'cancelled' }) do consider(kIndex[state], keepMs) end
  if at == nil then return -1 end
  return math.max(0, at - now)
end

-- nil when the caller holds a live lease on the task; otherwise the refusal to return. \`state\`, \`held\`
-- and \`expires\` are the hash's state, token and leaseExpiresAt (leaseRefusal: as the caller read them).
local function leaseRefusal(id, h, token, now, state, held, expires)
  if not state then return { 'notfound' } end
  if state ~= 'active' then return { 'lease', 'state', state } end
  if held ~= token then return { 'lease', 'token', state } end
  local exp = tonumber(expires) or 0
  if exp <= now then
    local worker = redis.call('HGET', h, 'worker') or '?'
    local status = retryOrFail(id, h, now, 'lease expired without heartbeat or completion (worker ' .. worker .. ')', true, false)
    return { 'lease', 'expired', status, exp }
  end
  return nil
end

local function checkLease(id, h, token, now)
  local f = redis.call('HMGET', h, 'state', 'token', 'leaseExpiresAt')
  return leaseRefusal(id, h, token, now, f[1], f[2], f[3])
end
`

/** One top-level definition of the prelude (with the comment above it), the names it defines and those it uses. */
interface Part {
  readonly text: string
  readonly defines: ReadonlyArray<string>
  readonly uses: ReadonlyArray<string>
}

const WORD = /[A-Za-z_][A-Za-z0-9_]*/g
/** The names a text uses, its comments left out. */
const words = (text: string) => text.replace(/--.*$/gm, "").match(WORD) ?? []
const DEFINES = /^local (?:function (\w+)|([\w, ]+?)\s*=)/gm

const parts: ReadonlyArray<Part> = (() => {
  const out: Array<string> = []
  let previous = ""
  for (const line of PRELUDE.split("\n")) {
    const starts =
      (line.startsWith("local ") && !previous.startsWith("--")) || (line.startsWith("--") && !previous.startsWith("--"))
    if (starts || out.length === 0) out.push(line)
    else out[out.length - 1] += `\n${line}`
    previous = line
  }
  return out.map((text) => ({
    text,
    defines: [...text.matchAll(DEFINES)].flatMap((m) => (m[1] ?? m[2]!).split(",").map((n) => n.trim())),
    uses: [...new Set(words(text))]
  }))
})()

/**
 * `body` after the parts of the prelude it uses, directly or through another part, in the prelude's
 * order (a part only uses what is defined above it, so one pass from the bottom finds them all).
 */
export const withPrelude = (body: string): string => {
  const used = new Set(words(body))
  const kept: Array<string> = []
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i]!
    if (!part.defines.some((name) => used.has(name))) continue
    kept.unshift(part.text)
    for (const word of part.uses) used.add(word)
  }
  return `${kept.join("\n")}\n${body}`
}
