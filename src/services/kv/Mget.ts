/**
 * `mget` within the output cap, decided before any value is fetched. The keys
 * are de-duplicated; their JSON (each key twice: in `values` and maybe in
 * `remaining`) is paid for first, the rest is the budget for values. Values are
 * read in key order while they fit; the first one that does not fit stops the
 * reading, and it and every later value are listed in `remaining` (with their
 * lengths) for the next call. A value that alone is over the budget is returned
 * as its first part (`offset` for `get` to go on), so every call makes progress.
 *
 * On Redis one script does this for all keys (`MGET_LUA`: STRLEN first, GET only
 * what fits, GETRANGE for a first part), so neither Redis nor this server ever
 * holds more than the budget; the memory layer follows the same rules.
 */
import { Effect } from "effect"
import type { RedisError } from "../../Errors.ts"
import type { Limits } from "../../layers/Config.ts"
import { costWithin, cutToFit, jsonBound, LUA_BUDGET } from "../Budget.ts"
import type { MgetItem, MgetResult } from "../Kv.ts"
import { valueBudget } from "../ValueRange.ts"
import { fromBuffer } from "../Values.ts"

/**
 * What the store holds at one key: `length` -1 for another type (MGET reads it as
 * missing), else its size; `value` the bytes read (all of them, or the first part
 * of a longer value), or null when missing or not read.
 */
export interface MgetRaw {
  readonly length: number
  readonly value: Buffer | null
  /** `value` is a first part to cut again to fit (it may hold every byte when escaping made it too big). */
  readonly cut?: boolean
  /** JSON bytes a first part may take, when not the whole budget (a Cluster slot's share). */
  readonly room?: number
}

/** JSON of one entry besides its value: `{"key":…,"found":…,"encoding":…,"length":…,"truncated":…,"offset":…}` and its place in `remaining`. */
const ENTRY_OVERHEAD = 128

/** JSON bytes left for values once every entry's key and fields are paid for. */
export const mgetBudget = (keys: ReadonlyArray<string>, limits: Limits): number => {
  let fixed = 0
  for (const k of keys) fixed += 2 * jsonBound(Buffer.from(k, "utf8")) + ENTRY_OVERHEAD
  return valueBudget(limits) - fixed
}

/**
 * KEYS: the keys; ARGV[1]: JSON bytes for values; ARGV[2]: '1' when the first
 * value read may be cut to fit. Returns {length, value, cut} per key: length -1
 * for another type; value false when missing or not read; cut 1 for a first part.
 */
export const MGET_LUA = `${LUA_BUDGET}
local left, maycut = tonumber(ARGV[1]), ARGV[2] == '1'
local out, stopped, any = {}, false, false
for _, k in ipairs(KEYS) do
  local n = redis.pcall('STRLEN', k)
  local v, cut = false, 0
  if type(n) == 'table' then
    n = -1
  elseif n == 0 then
    v = redis.call('GET', k)
  elseif not stopped then
    if n + 2 <= left then
      v = redis.call('GET', k)
      local c = cost(v, left)
      if c then
        left = left - c
        any = true
      elseif maycut and not any then
        v = string.sub(v, 1, math.max(0, left))
        cut = 1
        stopped = true
      else
        v = false
        stopped = true
      end
    elseif maycut and not any then
      if left > 0 then v = redis.call('GETRANGE', k, 0, left - 1) else v = '' end
      cut = 1
      stopped = true
    else
      stopped = true
    end
  end
  out[#out + 1] = n
  out[#out + 1] = v
  out[#out + 1] = cut
end
return out
`

/** The script's reply as one MgetRaw per key. */
export const parseMgetReply = (reply: unknown): Array<MgetRaw> => {
  const flat = reply as Array<unknown>
  const out: Array<MgetRaw> = []
  for (let i = 0; i + 2 < flat.length; i += 3) {
    const value = Buffer.isBuffer(flat[i + 1]) ? (flat[i + 1] as Buffer) : null
    out.push({ length: Number(flat[i]), value, ...(Number(flat[i + 2]) === 1 ? { cut: true } : {}) })
  }
  return out
}

/** MGET_LUA's rules over values in memory (null: missing; "other": another type). No value is copied. */
export const selectInMemory = (
  stored: ReadonlyArray<Buffer | null | "other">,
  budget: number,
  mayCut = true
): Array<MgetRaw> => {
  let left = budget
  let stopped = false
  let any = false
  return stored.map((v): MgetRaw => {
    if (v === "other") return { length: -1, value: null }
    if (v === null) return { length: 0, value: null }
    if (v.length === 0) return { length: 0, value: v }
    if (stopped) return { length: v.length, value: null }
    const cost = costWithin(v, left)
    if (cost !== undefined) {
      left -= cost
      any = true
      return { length: v.length, value: v }
    }
    stopped = true
    return mayCut && !any
      ? { length: v.length, value: v.subarray(0, Math.max(0, left)), cut: true }
      : { length: v.length, value: null }
  })
}

/** The tool result: one entry per distinct key, in order, and the keys to read next. */
export const toMgetResult = (keys: ReadonlyArray<string>, raws: ReadonlyArray<MgetRaw>, budget: number): MgetResult => {
  const values: Array<MgetItem> = []
  const remaining: Array<string> = []
  let truncated = false
  keys.forEach((key, i) => {
    const { length, value } = raws[i]!
    if (length < 0 || (value === null && length === 0)) {
      values.push({ key, found: false, value: null, encoding: "utf8" })
    } else if (value === null) {
      values.push({ key, found: true, value: null, encoding: "utf8", length, truncated: true })
      remaining.push(key)
      truncated = true
    } else if (raws[i]!.cut !== true) {
      values.push({ key, found: true, ...fromBuffer(value) })
    } else {
      const part = cutToFit(value, raws[i]!.room ?? budget)
      values.push({
        key,
        found: true,
        value: part.value,
        encoding: part.encoding,
        length,
        truncated: true,
        offset: part.bytes
      })
      truncated = true
    }
  })
  return { values, truncated, remaining }
}

/**
 * On a Cluster the keys of one script must share a slot, so a read takes two
 * steps: the sizes of every key (the script with no budget, one call per slot,
 * concurrently), then, per slot, the values chosen from those sizes in key order,
 * each slot's script with a budget of exactly what was chosen there. A value that
 * grew in between stops its slot's reading and is listed in `remaining`.
 */
export const mgetInTwoSteps = <E>(
  keys: ReadonlyArray<string>,
  budget: number,
  perSlot: (
    keys: ReadonlyArray<string>,
    run: (part: ReadonlyArray<string>) => Effect.Effect<Array<MgetRaw>, E>
  ) => Effect.Effect<Array<MgetRaw>, E>,
  script: (part: ReadonlyArray<string>, budget: number, mayCut: boolean) => Effect.Effect<Array<MgetRaw>, E>
): Effect.Effect<Array<MgetRaw>, E | RedisError> =>
  Effect.gen(function* () {
    const sizes = yield* perSlot(keys, (part) => script(part, 0, false))
    const chosen = new Map<string, number>()
    let left = budget
    let cutKey: string | undefined
    for (let i = 0; i < keys.length; i++) {
      const n = sizes[i]!.length
      if (n <= 0) continue
      if (n + 2 <= left) {
        chosen.set(keys[i]!, n + 2)
        left -= n + 2
        continue
      }
      if (chosen.size === 0) cutKey = keys[i]
      break
    }
    if (cutKey !== undefined) {
      const [raw] = yield* script([cutKey], budget, true)
      return keys.map((k, i) => (k === cutKey ? raw! : sizes[i]!))
    }
    if (chosen.size === 0) return sizes
    const picked = keys.filter((k) => chosen.has(k))
    const first = picked[0]
    const read = yield* perSlot(picked, (part) => {
      const room = part.reduce((n, k) => n + chosen.get(k)!, 0)
      // Only the slot of the first chosen value may cut one (a value that fits by size but not once escaped).
      return Effect.map(script(part, room, part[0] === first), (raws) =>
        raws.map((r) => (r.cut === true ? { ...r, room } : r))
      )
    })
    const byKey = new Map(picked.map((k, i) => [k, read[i]!]))
    return keys.map((k, i) => byKey.get(k) ?? sizes[i]!)
  })
