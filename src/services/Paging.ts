/**
 * Output pages of the collection services: kept under the item and byte caps
 * (ServerConfig limits), with the cursors that continue them, on Redis (SCAN
 * positions, index progress) and in memory (stable, in byte order).
 */

import { isUtf8 } from "node:buffer"
import { createHash } from "node:crypto"
import { Effect } from "effect"
import type { InvalidArgument } from "../Errors.ts"
import { quote } from "../Errors.ts"
import type { Limits } from "../layers/Config.ts"
import { type Item, invalid } from "./Collection.ts"
import { type EncodedValue, fromBuffer } from "./Values.ts"

/** Bytes left for items once the envelope (key, cursor, flags) is paid for. */
export const itemBudget = (limits: Limits): number =>
  limits.maxOutputBytes - Math.min(1024, Math.floor(limits.maxOutputBytes / 4))

const jsonBytes = (x: unknown): number => Buffer.byteLength(JSON.stringify(x))

/**
 * An upper bound on the JSON size of one popped value, computed the same way in
 * Lua (the lists' pop script) and here: escaped text for ASCII; for anything
 * else base64 or escaped text, whichever is larger; plus the item's own keys.
 */
export const estimateItemBytes = (raw: Buffer): number => {
  let ctl = 0
  let esc = 0
  let high = false
  for (const b of raw) {
    if (b < 0x20) ctl++
    else if (b === 0x22 || b === 0x5c) esc++
    else if (b >= 0x80) high = true
  }
  const text = raw.length + 5 * ctl + esc
  return (high ? Math.max(Math.ceil(raw.length / 3) * 4, text) : text) + 32
}

/** The longest prefix of `raw` whose encoded JSON string fits in `maxJson` bytes. */
export const cutToFit = (raw: Buffer, maxJson: number): EncodedValue => {
  const room = Math.max(0, maxJson - 2)
  if (!isUtf8(raw)) return { value: raw.subarray(0, Math.floor(room / 4) * 3).toString("base64"), encoding: "base64" }
  let k = Math.min(raw.length, room)
  while (k > 0) {
    while (k > 0 && k < raw.length && (raw[k]! & 0xc0) === 0x80) k--
    const text = raw.subarray(0, k).toString("utf8")
    const size = jsonBytes(text) - 2
    if (size <= room) return { value: text, encoding: "utf8" }
    k = Math.floor((k * room) / size)
  }
  return { value: "", encoding: "utf8" }
}

/**
 * Collects one output page within the item and byte caps. A first item that is
 * alone over the byte cap is cut to fit (`truncated: true`), so a page always
 * makes progress.
 */
export class Page<T> {
  readonly items: Array<T> = []
  private bytes = 0
  private readonly maxItems: number
  private readonly budget: number
  constructor(maxItems: number, budget: number) {
    this.maxItems = maxItems
    this.budget = budget
  }

  get full(): boolean {
    return this.items.length >= this.maxItems
  }

  /** Add the item built around `raw` if it fits; false (nothing added) when the page is full. */
  offer(raw: Buffer, build: (value: Item) => T): boolean {
    if (this.full) return false
    const encoded = fromBuffer(raw)
    const item = build(encoded)
    const size = jsonBytes(item) + 1
    if (this.bytes + size <= this.budget) {
      this.items.push(item)
      this.bytes += size
      return true
    }
    if (this.items.length > 0) return false
    const overhead = size - jsonBytes(encoded.value)
    const cut = cutToFit(raw, this.budget - overhead - 40)
    this.items.push(build({ ...cut, truncated: true, length: raw.length }))
    this.bytes = this.budget
    return true
  }
}

const badCursor = (cursor: string) =>
  invalid(
    `cursor ${quote(cursor)} is not one this tool returned. Pass the cursor from the previous result unchanged (with the same other arguments), or leave it out to start from the beginning.`
  )

/** Position in a Redis HSCAN/SSCAN walk: the SCAN cursor of a batch and how many of its entries were already returned. */
export interface ScanPosition {
  readonly cursor: string
  readonly skip: number
}

export const encodeScanCursor = (p: ScanPosition): string => (p.skip === 0 ? p.cursor : `${p.cursor}:${p.skip}`)

export const decodeScanCursor = (cursor: string | undefined): Effect.Effect<ScanPosition, InvalidArgument> => {
  if (cursor === undefined) return Effect.succeed({ cursor: "0", skip: 0 })
  const m = /^(\d{1,20})(?::(\d{1,9}))?$/.exec(cursor)
  return m ? Effect.succeed({ cursor: m[1]!, skip: Number(m[2] ?? 0) }) : Effect.fail(badCursor(cursor))
}

/**
 * Walk an HSCAN/SSCAN from `from`, offering each entry (`stride` elements) to
 * `offer` until it refuses one. Returns where to continue, or undefined at the end.
 * COUNT stays the same across calls so that re-reading a batch to skip its
 * returned entries sees the same batch.
 */
export const scanPage = <E>(
  scan: (cursor: string) => Effect.Effect<readonly [string, ReadonlyArray<Buffer>], E>,
  stride: number,
  from: ScanPosition,
  offer: (entry: ReadonlyArray<Buffer>) => boolean
): Effect.Effect<ScanPosition | undefined, E> =>
  Effect.gen(function* () {
    let pos = from
    while (true) {
      const [next, elements] = yield* scan(pos.cursor)
      for (let i = pos.skip * stride; i + stride <= elements.length; i += stride) {
        if (!offer(elements.slice(i, i + stride))) return { cursor: pos.cursor, skip: i / stride }
      }
      if (next === "0") return undefined
      pos = { cursor: next, skip: 0 }
    }
  })

/** The HSCAN/SSCAN COUNT hint: fixed per server so a batch can be read again identically. */
export const scanCount = (limits: Limits): number => Math.max(10, Math.min(limits.maxItems, 1000))

/**
 * In memory, a cursor names the last key returned (a short key itself, a long one
 * by its first bytes and a hash); later pages continue after it in byte order,
 * so keys that stay in the collection are each returned once.
 */
export interface AfterCursor {
  readonly prefix: string
  readonly hash?: string
}

const SHORT_KEY = 48
const keyHash = (k: string) => createHash("sha256").update(k, "latin1").digest("base64url").slice(0, 16)
const b64 = (k: string) => Buffer.from(k, "latin1").toString("base64url")

export const encodeAfterCursor = (memberKey: string): string =>
  memberKey.length <= SHORT_KEY ? `m${b64(memberKey)}` : `h${b64(memberKey.slice(0, 32))}.${keyHash(memberKey)}`

export const decodeAfterCursor = (
  cursor: string | undefined
): Effect.Effect<AfterCursor | undefined, InvalidArgument> => {
  if (cursor === undefined || cursor === "0") return Effect.succeed(undefined)
  const m = /^(?:m([A-Za-z0-9_-]*)|h([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]{16}))$/.exec(cursor)
  if (!m) return Effect.fail(badCursor(cursor))
  const prefix = Buffer.from(m[1] ?? m[2]!, "base64url").toString("latin1")
  return Effect.succeed(m[3] === undefined ? { prefix } : { prefix, hash: m[3] })
}

/** Keys in byte order, after the cursor's key (memory paging). */
export const keysAfter = (keys: Iterable<string>, after: AfterCursor | undefined): Array<string> => {
  const sorted = [...keys].sort(byBytes)
  if (after === undefined) return sorted
  if (after.hash !== undefined) {
    const at = sorted.findIndex((k) => k.startsWith(after.prefix) && keyHash(k) === after.hash)
    if (at >= 0) return sorted.slice(at + 1)
  }
  return sorted.filter((k) => k > after.prefix)
}

/** Index and offset ranges continue by how many items earlier pages returned. */
export const decodeProgressCursor = (cursor: string | undefined): Effect.Effect<number, InvalidArgument> => {
  if (cursor === undefined) return Effect.succeed(0)
  return /^\d{1,15}$/.test(cursor) ? Effect.succeed(Number(cursor)) : Effect.fail(badCursor(cursor))
}

/**
 * The memory store keys hash fields, set members and sorted-set members by their
 * bytes as a latin1 string: binary-safe, and JavaScript's string order is then
 * Redis's byte order.
 */
export const memberKey = (b: Buffer): string => b.toString("latin1")
export const memberBytes = (k: string): Buffer => Buffer.from(k, "latin1")

/** Byte order, as Redis compares members. */
export const byBytes = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
