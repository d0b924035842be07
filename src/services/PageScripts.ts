/**
 * Collection pages read on Redis by Lua scripts that choose what fits before
 * anything is sent: each value's cost is counted (`LUA_BUDGET`, the same count
 * as `Page` in memory) and the script stops at the page's item and byte caps, so
 * a reply never holds more than one page, whatever the sizes of the values. The
 * script reads the collection in small steps (SCAN COUNT 10, or a few elements
 * per range read, fewer as values grow), so what Redis itself copies for one
 * call stays a few values too.
 */
import { Effect } from "effect"
import type { ScriptOptions, ScriptRunner } from "../layers/RedisClient.ts"
import { ITEM_OVERHEAD, jsonBound, LUA_BUDGET } from "./Budget.ts"
import type { Build, Page, ScanPosition } from "./Paging.ts"

/** The SCAN COUNT hint of page scripts: fixed, so a batch read again is the same batch. */
export const SCAN_HINT = 10
/** HSCAN/SSCAN round trips one script call may make inside Redis before it hands back. */
const SCAN_ROUNDS = 256
/** Script calls one page may take (each bounded in work). */
const MAX_CALLS = 8

/**
 * One page of an HSCAN or SSCAN walk. KEYS[1]; ARGV: command, cursor, skip,
 * hint, items wanted, bytes left, item overhead, rounds, '1' when the page is
 * still empty (only then may a value be cut).
 * Returns {status, cursor, skip, [name,] value, total, …}: status 0 = the page
 * is complete, 1 = rounds used up (call again), 2 = the walk is done; total is
 * -1 for a whole value, else the value is the first bytes of a total-byte value.
 */
const SCAN_PAGE_LUA = `${LUA_BUDGET}
local cmd, cursor, skip = ARGV[1], ARGV[2], tonumber(ARGV[3])
local hint, max, budget = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local over, rounds, empty = tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9] == '1'
local stride = 1
if cmd == 'HSCAN' then stride = 2 end
local out, n, used = {0, '0', 0}, 0, 0
local function finish(status, c, k)
  out[1], out[2], out[3] = status, c, k
  return out
end
for round = 1, rounds do
  local r = redis.call(cmd, KEYS[1], cursor, 'COUNT', hint)
  local els, nextc = r[2], r[1]
  local total = #els / stride
  local i = skip
  while i < total do
    if n >= max then return finish(0, cursor, i) end
    local name, v, extra = nil, els[(i + 1) * stride], 0
    if stride == 2 then
      name = els[i * 2 + 1]
      extra = jsize(name)
    end
    local left = budget - used - extra - over
    local c = cost(v, left)
    if c == nil and (n > 0 or not empty) then return finish(0, cursor, i) end
    if name then out[#out + 1] = name end
    if c then
      out[#out + 1] = v
      out[#out + 1] = -1
      used = used + c + extra + over
    else
      out[#out + 1] = string.sub(v, 1, math.max(0, left))
      out[#out + 1] = #v
      used = budget
    end
    n = n + 1
    i = i + 1
    if c == nil then
      if i < total then return finish(0, cursor, i) end
      if nextc == '0' then return finish(2, '0', 0) end
      return finish(0, nextc, 0)
    end
  end
  cursor, skip = nextc, 0
  if cursor == '0' then return finish(2, '0', 0) end
  if n >= max then return finish(0, cursor, 0) end
end
return finish(1, cursor, 0)
`

/**
 * One page of an index or score/lex range. KEYS[1]; ARGV: kind (list, zindex,
 * zscore, zlex), start, stop, REV flag, LIMIT offset, LIMIT count (-1: none),
 * progress (items of the range already returned), items wanted, bytes left,
 * item overhead. Returns {status, progress, length, value, score, total, …}:
 * status 0 = more follow, 2 = the range is done; length is the list's or sorted
 * set's size (index kinds); score is '' when not asked; total as in SCAN_PAGE_LUA.
 */
const RANGE_PAGE_LUA = `${LUA_BUDGET}
local kind, rev = ARGV[1], ARGV[4] == '1'
local offset, limit, progress = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local max, budget, over = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local out, n, used = {0, 0, 0}, 0, 0
local function finish(status)
  out[1], out[2] = status, progress
  return out
end
local s, e = 0, -1
local scored = kind ~= 'list' and kind ~= 'zlex'
if kind == 'list' or kind == 'zindex' then
  local len
  if kind == 'list' then len = redis.call('LLEN', KEYS[1]) else len = redis.call('ZCARD', KEYS[1]) end
  out[3] = len
  s, e = tonumber(ARGV[2]), tonumber(ARGV[3])
  if s < 0 then s = len + s end
  if e < 0 then e = len + e end
  if s < 0 then s = 0 end
  if e >= len then e = len - 1 end
end
local step = 8
while true do
  local want = step
  if limit >= 0 then want = math.min(want, limit - progress) end
  if kind == 'list' or kind == 'zindex' then want = math.min(want, e - (s + progress) + 1) end
  if want <= 0 then return finish(2) end
  local els
  if kind == 'list' then
    els = redis.call('LRANGE', KEYS[1], s + progress, s + progress + want - 1)
  elseif kind == 'zindex' then
    local args = {KEYS[1], s + progress, s + progress + want - 1}
    if rev then args[#args + 1] = 'REV' end
    args[#args + 1] = 'WITHSCORES'
    els = redis.call('ZRANGE', unpack(args))
  else
    local args = {KEYS[1], ARGV[2], ARGV[3]}
    if kind == 'zscore' then args[#args + 1] = 'BYSCORE' else args[#args + 1] = 'BYLEX' end
    if rev then args[#args + 1] = 'REV' end
    args[#args + 1] = 'LIMIT'
    args[#args + 1] = offset + progress
    args[#args + 1] = want
    if scored then args[#args + 1] = 'WITHSCORES' end
    els = redis.call('ZRANGE', unpack(args))
  end
  local stride = 1
  if scored then stride = 2 end
  local got = #els / stride
  local biggest, taken, cut = 1, 0, false
  for i = 0, got - 1 do
    if n >= max then break end
    local v = els[i * stride + 1]
    local score = ''
    if scored then score = els[i * stride + 2] end
    local left = budget - used - over
    local c = cost(v, left)
    if c == nil and n > 0 then break end
    if c then
      out[#out + 1] = v
      out[#out + 1] = score
      out[#out + 1] = -1
      used = used + c + over
    else
      out[#out + 1] = string.sub(v, 1, math.max(0, left))
      out[#out + 1] = score
      out[#out + 1] = #v
      used = budget
      cut = true
    end
    n = n + 1
    taken = taken + 1
    progress = progress + 1
    if #v > biggest then biggest = #v end
    if cut then break end
  end
  local done = taken == got and got < want
  if (kind == 'list' or kind == 'zindex') and s + progress > e then done = true end
  if limit >= 0 and progress >= limit then done = true end
  if done then return finish(2) end
  if taken < got or cut or n >= max then return finish(0) end
  step = math.max(1, math.min(64, math.floor((budget - used) / biggest)))
end
`

export interface PageItem {
  /** A hash field's name (HSCAN pages). */
  readonly name?: Buffer
  readonly value: Buffer
  /** Sorted-set score as Redis printed it, when asked for. */
  readonly score?: string
  /** The value's full size when `value` holds only its first bytes. */
  readonly total?: number
}

const num = (x: unknown): number => (typeof x === "number" ? x : Number(String(x)))
const str = (x: unknown): string => (Buffer.isBuffer(x) ? x.toString("utf8") : String(x))

/** Register the page scripts on a client: one runner each, with Buffer replies. */
export const pageScripts = (script: (name: string, lua: string, options: ScriptOptions) => ScriptRunner) => ({
  scan: script("scan_page", SCAN_PAGE_LUA, { buffers: true, readOnly: true }),
  range: script("range_page", RANGE_PAGE_LUA, { buffers: true, readOnly: true })
})

/**
 * Fill `page` from an HSCAN/SSCAN walk starting at `from`; returns where the
 * next page starts, or undefined when the walk is done.
 */
export const scanIntoPage = <T, E>(
  run: (args: ReadonlyArray<string | number>) => Effect.Effect<unknown, E>,
  command: "HSCAN" | "SSCAN",
  from: ScanPosition,
  page: Page<T>,
  build: (item: PageItem) => Build<T>
): Effect.Effect<ScanPosition | undefined, E> =>
  Effect.gen(function* () {
    const stride = command === "HSCAN" ? 3 : 2
    let pos = from
    for (let call = 0; call < MAX_CALLS; call++) {
      const reply = (yield* run([
        command,
        pos.cursor,
        pos.skip,
        SCAN_HINT,
        page.room,
        page.left,
        ITEM_OVERHEAD,
        SCAN_ROUNDS,
        page.items.length === 0 ? 1 : 0
      ])) as Array<unknown>
      for (let i = 3; i + stride <= reply.length; i += stride) {
        const name = stride === 3 ? (reply[i] as Buffer) : undefined
        const value = reply[i + stride - 2] as Buffer
        const total = num(reply[i + stride - 1])
        const item: PageItem = { ...(name === undefined ? {} : { name }), value, ...(total >= 0 ? { total } : {}) }
        page.push(value, build(item), name === undefined ? 0 : jsonBound(name), total >= 0 ? total : undefined)
      }
      const status = num(reply[0])
      if (status === 2) return undefined
      pos = { cursor: str(reply[1]), skip: num(reply[2]) }
      if (status === 0 || page.full) return pos
    }
    return pos
  })

export type RangeKind = "list" | "zindex" | "zscore" | "zlex"

export interface RangeRequest {
  readonly kind: RangeKind
  readonly start: string | number | Buffer
  readonly stop: string | number | Buffer
  readonly reverse: boolean
  /** LIMIT offset (score and lex). */
  readonly offset: number
  /** LIMIT count (score and lex); undefined for none. */
  readonly count: number | undefined
  /** Items of the range earlier pages returned. */
  readonly progress: number
}

/** Fill `page` from an index or score/lex range; returns the new progress and whether the range is done. */
export const rangeIntoPage = <T, E>(
  run: (args: ReadonlyArray<string | number | Buffer>) => Effect.Effect<unknown, E>,
  request: RangeRequest,
  page: Page<T>,
  build: (item: PageItem) => Build<T>
): Effect.Effect<{ readonly progress: number; readonly done: boolean; readonly length: number }, E> =>
  Effect.map(
    run([
      request.kind,
      request.start,
      request.stop,
      request.reverse ? 1 : 0,
      request.offset,
      request.count ?? -1,
      request.progress,
      page.room,
      page.left,
      ITEM_OVERHEAD
    ]),
    (raw) => {
      const reply = raw as Array<unknown>
      for (let i = 3; i + 3 <= reply.length; i += 3) {
        const value = reply[i] as Buffer
        const score = str(reply[i + 1])
        const total = num(reply[i + 2])
        const item: PageItem = { value, ...(score === "" ? {} : { score }), ...(total >= 0 ? { total } : {}) }
        page.push(value, build(item), 0, total >= 0 ? total : undefined)
      }
      return { progress: num(reply[1]), done: num(reply[0]) === 2, length: num(reply[2]) }
    }
  )
