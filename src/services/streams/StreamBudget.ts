/**
 * What a stream entry costs in a tool result, counted the same way here and in
 * the Lua of StreamScripts.ts (an upper bound of its JSON), so that both layers
 * stop a result at the same entry, and Redis never sends entries that will not
 * be returned. An entry that alone is over the budget is cut: its fields in order
 * while they fit, the first that does not with its value cut to what is left,
 * the rest left out, and `truncated: true` on the entry.
 */
import { cutToFit, jsonBound, LUA_BUDGET } from "../Budget.ts"
import { toEntry } from "./StreamArgs.ts"
import type { StreamEntry } from "./StreamTypes.ts"

/** JSON of an entry besides its strings: keys, braces, `base64Fields`, `truncated`, the comma. */
export const ENTRY_OVERHEAD = 64

export type Pairs = ReadonlyArray<readonly [Buffer, Buffer]>

/** Cost of one field: its name twice (in `fields` and perhaps in `base64Fields`), its value, punctuation. */
const pairCost = (name: Buffer, value: Buffer) => 2 * jsonBound(name) + jsonBound(value) + 3

/** An upper bound of an entry's JSON (a deleted entry: `pairs` null). */
export const entryCost = (id: string, pairs: Pairs | null): number => {
  let cost = jsonBound(Buffer.from(id)) + ENTRY_OVERHEAD
  for (const [name, value] of pairs ?? []) cost += pairCost(name, value)
  return cost
}

/** Index of the first field of an entry that does not fit `budget` with the ones before it. */
export const firstMisfit = (id: string, pairs: Pairs, budget: number): number => {
  let left = budget - jsonBound(Buffer.from(id)) - ENTRY_OVERHEAD
  for (let i = 0; i < pairs.length; i++) {
    const cost = pairCost(pairs[i]![0], pairs[i]![1])
    if (cost > left) return i
    left -= cost
  }
  return pairs.length
}

/**
 * An entry cut to `budget` as Lua's `putentry` cuts it: the fields before
 * `misfit`, then that one with its value shortened (to at most the room left in
 * raw bytes, then exactly, in JSON), the rest left out; `truncated: true`.
 */
export const cutEntry = (id: string, pairs: Pairs, misfit: number, budget: number): StreamEntry => {
  let left = budget - jsonBound(Buffer.from(id)) - ENTRY_OVERHEAD
  const kept: Array<Buffer> = []
  for (const [name, value] of pairs.slice(0, misfit)) {
    kept.push(name, value)
    left -= pairCost(name, value)
  }
  const entry = toEntry(id, kept)
  const misfitPair = pairs[misfit]
  if (misfitPair === undefined) return { ...entry, truncated: true }
  const [name, value] = misfitPair
  const room = Math.max(0, left - 2 * jsonBound(name) - 3)
  const part = cutToFit(value.subarray(0, room), room)
  const field = name.toString("utf8")
  const base64 = new Set(entry.base64Fields ?? [])
  if (part.encoding === "base64") base64.add(field)
  else base64.delete(field)
  return {
    id,
    fields: { ...entry.fields, [field]: part.value },
    ...(base64.size === 0 ? {} : { base64Fields: [...base64] }),
    truncated: true
  }
}

/**
 * Lua twins of `entryCost` and `cutEntry` (after LUA_BUDGET's `jsize`). An entry
 * is Redis's `{id, {field, value, …}}` (`{id, false}` when deleted). `putentry`
 * appends to `out`: id, kind (0 whole, 1 cut, 2 deleted), field count, then the
 * fields and values (a cut entry's last value is its first bytes).
 */
export const LUA_STREAM = `${LUA_BUDGET}
local EOVER = ${ENTRY_OVERHEAD}
local function ecost(e)
  local c = jsize(e[1]) + EOVER
  local f = e[2]
  if f then
    for i = 1, #f, 2 do c = c + 2 * jsize(f[i]) + jsize(f[i + 1]) + 3 end
  end
  return c
end
local function putentry(out, e, kind, budget)
  out[#out + 1] = e[1]
  local f = e[2]
  if not f then
    out[#out + 1] = 2
    out[#out + 1] = 0
    return
  end
  out[#out + 1] = kind
  if kind == 0 then
    out[#out + 1] = #f / 2
    for i = 1, #f do out[#out + 1] = f[i] end
    return
  end
  local at = #out + 1
  out[at] = 0
  local left = budget - jsize(e[1]) - EOVER
  for i = 1, #f, 2 do
    local c = 2 * jsize(f[i]) + jsize(f[i + 1]) + 3
    out[at] = out[at] + 1
    out[#out + 1] = f[i]
    if c <= left then
      out[#out + 1] = f[i + 1]
      left = left - c
    else
      out[#out + 1] = string.sub(f[i + 1], 1, math.max(0, left - 2 * jsize(f[i]) - 3))
      return
    end
  end
end
`

/** Entries `putentry` wrote from `flat[at]` on, `n` of them; a cut one cut again to fit `budget` exactly. */
export const readEntries = (
  flat: ReadonlyArray<unknown>,
  at: number,
  n: number,
  budget: number
): { readonly entries: Array<StreamEntry>; readonly next: number } => {
  const entries: Array<StreamEntry> = []
  let i = at
  for (let k = 0; k < n; k++) {
    const id = String(flat[i])
    const kind = Number(flat[i + 1])
    const count = Number(flat[i + 2])
    i += 3
    const pairs: Array<readonly [Buffer, Buffer]> = []
    for (let j = 0; j < count; j++, i += 2) pairs.push([flat[i] as Buffer, flat[i + 1] as Buffer])
    entries.push(
      kind === 2
        ? toEntry(id, null)
        : kind === 1
          ? cutEntry(id, pairs, pairs.length - 1, budget)
          : toEntry(id, pairs.flat())
    )
  }
  return { entries, next: i }
}

/** An entry as the memory layer holds it (pairs null: deleted from the stream). */
export interface Candidate {
  readonly id: string
  readonly pairs: Pairs | null
}

/**
 * The memory layer's twin of the scripts' loop: entries in order while they fit
 * (`used` of `budget` already taken); a first entry (nothing taken yet) that
 * alone does not fit is cut. `stopped` says an entry was left out or cut.
 */
export const takeEntries = (
  candidates: ReadonlyArray<Candidate>,
  budget: number,
  used = 0
): { readonly entries: Array<StreamEntry>; readonly used: number; readonly stopped: boolean } => {
  const entries: Array<StreamEntry> = []
  let spent = used
  for (const { id, pairs } of candidates) {
    const cost = entryCost(id, pairs)
    if (spent + cost > budget && (entries.length > 0 || used > 0)) return { entries, used: spent, stopped: true }
    if (spent + cost <= budget || pairs === null) {
      entries.push(toEntry(id, pairs === null ? null : pairs.flat()))
      spent += cost
      continue
    }
    entries.push(cutEntry(id, pairs, firstMisfit(id, pairs, budget), budget))
    return { entries, used: spent + cost, stopped: true }
  }
  return { entries, used: spent, stopped: false }
}
