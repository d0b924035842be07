/**
 * Bounded reads: what a value costs in a tool's JSON output, computed the same
 * way here and in Lua (`LUA_BUDGET`), so that a script on Redis decides which
 * values fit a page before anything is sent, and the memory layers cut pages at
 * the same places. The estimate is an upper bound of the exact JSON size.
 */
import { isUtf8 } from "node:buffer"
import type { EncodedValue } from "./Values.ts"

/**
 * JSON bytes one item may take besides its strings: keys, punctuation, the
 * encodings, a score, `truncated`/`length`/`offset` on a cut item, the comma.
 */
export const ITEM_OVERHEAD = 128

/**
 * An upper bound on the size of `raw` as a JSON string, quotes included, however
 * it is encoded: escaped text (control characters as `\u00XX`, `"` and `\` with a
 * backslash) or, when it has bytes over 127, the larger of that and base64.
 */
export const jsonBound = (raw: Uint8Array): number => {
  let ctl = 0
  let esc = 0
  let high = false
  for (const b of raw) {
    if (b < 0x20) ctl++
    else if (b === 0x22 || b === 0x5c) esc++
    else if (b >= 0x80) high = true
  }
  const text = raw.length + 5 * ctl + esc
  return (high ? Math.max(Math.ceil(raw.length / 3) * 4, text) : text) + 2
}

/** `jsonBound(raw)` when it is at most `left`, else undefined (without scanning a value that cannot fit). */
export const costWithin = (raw: Uint8Array, left: number): number | undefined => {
  if (raw.length + 2 > left) return undefined
  const cost = jsonBound(raw)
  return cost <= left ? cost : undefined
}

/**
 * `jsize(s)` is `jsonBound`, `cost(s, left)` is `costWithin` (nil for undefined).
 * Scripts start with this; their own code follows.
 */
export const LUA_BUDGET = `
local function jsize(s)
  local n, ctl, esc = #s, 0, 0
  for _ in string.gmatch(s, '[%z\\1-\\31]') do ctl = ctl + 1 end
  for _ in string.gmatch(s, '["\\\\]') do esc = esc + 1 end
  local size = n + 5 * ctl + esc
  if string.find(s, '[\\128-\\255]') then size = math.max(math.ceil(n / 3) * 4, size) end
  return size + 2
end
local function cost(s, left)
  if #s + 2 > left then return nil end
  local c = jsize(s)
  if c > left then return nil end
  return c
end
`

/** A cut part of a value: its encoding and how many of the value's bytes it holds. */
export interface CutPart extends EncodedValue {
  readonly bytes: number
}

const jsonBytes = (x: unknown): number => Buffer.byteLength(JSON.stringify(x))

/**
 * A part cut from a value may end inside a UTF-8 character: drop that partial
 * character (up to 3 bytes) so the part reads as text; unchanged when it is
 * not text anyway.
 */
export const toCharBoundary = (part: Buffer): Buffer => {
  if (isUtf8(part)) return part
  for (let cut = 1; cut <= 3 && cut < part.length; cut++) {
    const shorter = part.subarray(0, part.length - cut)
    if (isUtf8(shorter)) return shorter
  }
  return part
}

/**
 * The longest prefix of `raw` (itself possibly the first part of a longer value)
 * whose encoded JSON string, quotes included, fits in `maxJson` bytes; text stays
 * text, cut on a character boundary.
 */
export const cutToFit = (whole: Buffer, maxJson: number): CutPart => {
  const room = Math.max(0, maxJson - 2)
  const raw = toCharBoundary(whole)
  if (!isUtf8(raw)) {
    const bytes = Math.min(raw.length, Math.floor(room / 4) * 3)
    return { value: raw.subarray(0, bytes).toString("base64"), encoding: "base64", bytes }
  }
  let k = Math.min(raw.length, room)
  while (k > 0) {
    while (k > 0 && k < raw.length && (raw[k]! & 0xc0) === 0x80) k--
    const text = raw.subarray(0, k).toString("utf8")
    const size = jsonBytes(text) - 2
    if (size <= room) return { value: text, encoding: "utf8", bytes: k }
    k = Math.floor((k * room) / size)
  }
  return { value: "", encoding: "utf8", bytes: 0 }
}
