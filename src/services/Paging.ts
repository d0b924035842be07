/**
 * Output pages of the collection services: kept under the item and byte caps
 * (ServerConfig limits), with the cursors that continue them, on Redis (SCAN
 * positions, index progress) and in memory (stable, in byte order).
 */
import { createHash } from "node:crypto"
import { Effect } from "effect"
import type { InvalidArgument } from "../Errors.ts"
import { quote } from "../Errors.ts"
import type { Limits } from "../layers/Config.ts"
import { costWithin, cutToFit, ITEM_OVERHEAD, jsonBound } from "./Budget.ts"
import { type Item, invalid } from "./Collection.ts"
import { fromBuffer } from "./Values.ts"

/** Bytes left for items once the envelope (key, cursor, flags) is paid for. */
export const itemBudget = (limits: Limits): number =>
  limits.maxOutputBytes - Math.min(1024, Math.floor(limits.maxOutputBytes / 4))

/**
 * An upper bound on the JSON size of one popped value (the lists' pop script
 * computes the same in Lua): its string plus the item's own keys.
 */
export const estimateItemBytes = (raw: Buffer): number => jsonBound(raw) + 30

/** How a page builds one item around a value (cut or whole); `cutBytes` is set on a cut value. */
export type Build<T> = (value: Item, cutBytes?: number) => T

/**
 * One output page within the item and byte caps. An item costs
 * `jsonBound(value) + extra + ITEM_OVERHEAD` (`extra`: its other strings, e.g. a
 * hash field's name); the Lua page scripts count the same way, so a page read on
 * Redis ends where the same page read in memory does. A first value that alone is
 * over the byte cap is cut to fit (`truncated: true`, its full `length`), so a
 * page always makes progress; nothing follows it on that page.
 */
export class Page<T> {
  readonly items: Array<T> = []
  private used = 0
  private closed = false
  private readonly maxItems: number
  private readonly budget: number
  constructor(maxItems: number, budget: number) {
    this.maxItems = maxItems
    this.budget = budget
  }

  get full(): boolean {
    return this.closed || this.items.length >= this.maxItems
  }

  /** Bytes still free. */
  get left(): number {
    return this.budget - this.used
  }

  /** Items still free. */
  get room(): number {
    return this.closed ? 0 : this.maxItems - this.items.length
  }

  /** Decide: add the value if it fits, cut it if the page is empty, refuse it (false) otherwise. */
  offer(raw: Buffer, build: Build<T>, extra = 0): boolean {
    if (this.full) return false
    const cost = costWithin(raw, this.left - extra - ITEM_OVERHEAD)
    if (cost !== undefined) {
      this.items.push(build(fromBuffer(raw)))
      this.used += cost + extra + ITEM_OVERHEAD
      return true
    }
    if (this.items.length > 0) return false
    // Only the bytes that could fit matter (the Lua scripts cut the same way before sending).
    this.cut(raw.subarray(0, Math.max(0, this.left - extra - ITEM_OVERHEAD)), build, extra, raw.length)
    return true
  }

  /**
   * Add a value a page script already chose: whole, or, when the script cut it
   * (`total` given: the value's full size), its first bytes, cut again to fit exactly.
   */
  push(raw: Buffer, build: Build<T>, extra = 0, total?: number): void {
    if (total !== undefined) {
      this.cut(raw, build, extra, total)
    } else {
      this.items.push(build(fromBuffer(raw)))
      this.used += jsonBound(raw) + extra + ITEM_OVERHEAD
    }
  }

  /** The first bytes of a `total`-byte value, cut to what is left; the page is then full. */
  private cut(raw: Buffer, build: Build<T>, extra: number, total: number): void {
    const part = cutToFit(raw, this.left - extra - ITEM_OVERHEAD)
    this.items.push(build({ value: part.value, encoding: part.encoding, truncated: true, length: total }, part.bytes))
    this.used = this.budget
    this.closed = true
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
