/**
 * Redis lists: push at either end, pop (within the output cap, so nothing popped
 * is lost), read index ranges page by page, and count.
 */
import { Context, Effect, Layer } from "effect"
import type { Redis } from "ioredis"
import { quote, TooLarge } from "../Errors.ts"
import { ServerConfig } from "../layers/Config.ts"
import { RedisClient } from "../layers/RedisClient.ts"
import { LUA_BUDGET } from "./Budget.ts"
import {
  type CollectionError,
  checkCount,
  checkWrite,
  type Item,
  invalid,
  type Paged,
  resolveRange,
  sendBuffer,
  toWriteReply,
  WRITE_LUA,
  type WriteOptions,
  writeArgs
} from "./Collection.ts"
import { type KeysOf, withKeyGuard } from "./KeyNames.ts"
import { MemoryStore } from "./MemoryStore.ts"
import { pageScripts, rangeIntoPage } from "./PageScripts.ts"
import { decodeProgressCursor, estimateItemBytes, itemBudget, Page } from "./Paging.ts"
import { explainWrongType } from "./RedisTypes.ts"
import { fromBuffer } from "./Values.ts"

export type End = "left" | "right"

export interface PushOptions extends WriteOptions {
  /** Push only if the list exists (LPUSHX/RPUSHX). @default false */
  readonly onlyIfExists?: boolean | undefined
}

export interface PopResult {
  readonly items: ReadonlyArray<Item>
  /** Elements left in the list. */
  readonly length: number
  /** Fewer than `count` were popped because the output cap was reached; pop again for more. */
  readonly truncated: boolean
}

export interface RangePage extends Paged<Item> {
  /** The list's length. */
  readonly length: number
}

export interface ListsShape {
  /** LPUSH/RPUSH: add values at one end, in the order given; returns the new length. */
  readonly push: (
    end: End,
    key: string,
    values: ReadonlyArray<string>,
    options?: PushOptions
  ) => Effect.Effect<{ readonly length: number }, CollectionError>
  /** LPOP/RPOP: remove and return up to `count` values (default 1) from one end. */
  readonly pop: (end: End, key: string, count?: number) => Effect.Effect<PopResult, CollectionError>
  /** LRANGE with Redis index rules (negative counts from the end), one page at a time. */
  readonly range: (
    key: string,
    start: number,
    stop: number,
    cursor?: string
  ) => Effect.Effect<RangePage, CollectionError>
  /** LLEN: 0 for a missing key. */
  readonly length: (key: string) => Effect.Effect<{ readonly length: number }, CollectionError>
}

const pushCommand = (end: End, onlyIfExists: boolean) =>
  (end === "left" ? "LPUSH" : "RPUSH") + (onlyIfExists ? "X" : "")
const popCommand = (end: End) => (end === "left" ? "LPOP" : "RPOP")

const checkIndex = (name: string, n: number) =>
  Number.isSafeInteger(n) ? Effect.void : Effect.fail(invalid(`${name} must be a whole number, got ${n}.`))

const tooLargeToPop = (key: string, bytes: number, budget: number) =>
  new TooLarge({
    message: `The next element of list ${quote(key)} is ${bytes} bytes, too large for the output cap (REDIS_MCP_MAX_OUTPUT_BYTES), so nothing was popped. Read it with lrange (it comes back cut) or ask an operator to raise the cap.`,
    size: bytes,
    limit: budget
  })

/**
 * Pop at most ARGV[2] elements whose JSON fits ARGV[3] bytes (estimateItemBytes,
 * in Lua), looking at the elements a few at a time so that Redis never copies
 * many more than it pops. KEYS[1]; ARGV: LPOP|RPOP, count, budget.
 * Returns {popped count, length after, elements} or {-1, length, size of the next element}.
 */
const POP_LUA = `${LUA_BUDGET}
local n, budget, head = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[1] == 'LPOP'
local len = redis.call('LLEN', KEYS[1])
if len == 0 then return {0, 0, {}} end
local total, k, step, biggest, full, firstSize = 0, 0, 8, 1, false, 0
while not full and k < n and k < len do
  local want = math.min(step, n - k, len - k)
  local peek
  if head then
    peek = redis.call('LRANGE', KEYS[1], k, k + want - 1)
  else
    local tail = redis.call('LRANGE', KEYS[1], -(k + want), -(k + 1))
    peek = {}
    for i = #tail, 1, -1 do peek[#peek + 1] = tail[i] end
  end
  for i = 1, #peek do
    local s = peek[i]
    if k == 0 then firstSize = #s end
    local c = cost(s, budget - total - 30)
    if c == nil then
      full = true
      break
    end
    total = total + c + 30
    k = k + 1
    if #s > biggest then biggest = #s end
  end
  step = math.max(1, math.min(64, math.floor((budget - total) / biggest)))
end
if k == 0 then return {-1, len, firstSize} end
local popped = redis.call(ARGV[1], KEYS[1], k)
return {k, redis.call('LLEN', KEYS[1]), popped}
`

const identity = (v: Item) => v

/** The key each call names, checked before it runs (KeyNames.ts). */
const listKeys: KeysOf<ListsShape> = {
  push: (_end, key) => [key],
  pop: (_end, key) => [key],
  range: (key) => [key],
  length: (key) => [key]
}

export class Lists extends Context.Service<Lists, ListsShape>()("effect-redis-mcp/Lists") {
  /** Backed by Redis. */
  static readonly layer = Layer.effect(
    Lists,
    Effect.gen(function* () {
      const redis = yield* RedisClient
      const { limits } = yield* ServerConfig
      const budget = itemBudget(limits)
      const write = redis.script("list_write", WRITE_LUA)
      const pages = pageScripts(redis.script)
      const asList = (key: string) => explainWrongType(redis, key, "list")
      const r = (c: unknown) => c as Redis

      return Lists.of({
        push: Effect.fn("Lists.push")(function* (end, key, values, options) {
          const { ttl, bufs } = yield* checkWrite(
            `${pushCommand(end, false).toLowerCase()} values`,
            values,
            options,
            limits
          )
          const reply = yield* write(
            [key],
            writeArgs(pushCommand(end, options?.onlyIfExists === true), ttl, 1, [], bufs)
          ).pipe(asList(key))
          return { length: toWriteReply(reply).last }
        }),
        pop: Effect.fn("Lists.pop")(function* (end, key, count = 1) {
          yield* checkCount("count", count, limits.maxItems)
          const reply = (yield* redis
            .run(popCommand(end), (c) => sendBuffer(c, "eval", POP_LUA, 1, key, popCommand(end), count, budget))
            .pipe(asList(key))) as [number, number, ReadonlyArray<Buffer> | number]
          const [k, length, rest] = reply
          if (k < 0) return yield* tooLargeToPop(key, rest as number, budget)
          const items = (rest as ReadonlyArray<Buffer>).map(fromBuffer)
          return { items, length, truncated: k < count && length > 0 }
        }),
        range: Effect.fn("Lists.range")(function* (key, start, stop, cursor) {
          yield* checkIndex("start", start)
          yield* checkIndex("stop", stop)
          const progress = yield* decodeProgressCursor(cursor)
          const page = new Page<Item>(limits.maxItems, budget)
          const r = yield* rangeIntoPage(
            (args) => pages.range([key], args, { idempotent: true }).pipe(asList(key)),
            { kind: "list", start, stop, reverse: false, offset: 0, count: undefined, progress },
            page,
            () => identity
          )
          return r.done
            ? { items: page.items, length: r.length, truncated: false }
            : { items: page.items, length: r.length, truncated: true, cursor: String(r.progress) }
        }),
        length: Effect.fn("Lists.length")(function* (key) {
          const length = yield* redis.run("LLEN", (c) => r(c).llen(key), { idempotent: true }).pipe(asList(key))
          return { length }
        })
      })
    }).pipe(withKeyGuard(listKeys))
  )

  /** On the shared in-memory keyspace. */
  static readonly layerMemory = Layer.effect(
    Lists,
    Effect.gen(function* () {
      const store = yield* MemoryStore
      const { limits } = yield* ServerConfig
      const budget = itemBudget(limits)

      return Lists.of({
        push: Effect.fn("Lists.push")(function* (end, key, values, options) {
          const { ttl, bufs } = yield* checkWrite(
            `${pushCommand(end, false).toLowerCase()} values`,
            values,
            options,
            limits
          )
          let entry = yield* store.getTyped(key, "list")
          if (entry === undefined) {
            if (options?.onlyIfExists === true) return { length: 0 }
            entry = { type: "list", expiresAt: null, value: [] }
            yield* store.put(key, entry)
          }
          if (end === "left") entry.value.unshift(...[...bufs].reverse())
          else entry.value.push(...bufs)
          if (ttl > 0) entry.expiresAt = (yield* store.now) + ttl * 1000
          return { length: entry.value.length }
        }),
        pop: Effect.fn("Lists.pop")(function* (end, key, count = 1) {
          yield* checkCount("count", count, limits.maxItems)
          const entry = yield* store.getTyped(key, "list")
          if (entry === undefined) return { items: [], length: 0, truncated: false }
          const list = entry.value
          const peek = end === "left" ? list.slice(0, count) : list.slice(-count).reverse()
          let total = 0
          let k = 0
          for (const el of peek) {
            const size = estimateItemBytes(el)
            if (total + size > budget) break
            total += size
            k++
          }
          if (k === 0) return yield* tooLargeToPop(key, peek[0]!.length, budget)
          const popped = end === "left" ? list.splice(0, k) : list.splice(list.length - k, k).reverse()
          yield* store.dropIfEmpty(key)
          return { items: popped.map(fromBuffer), length: list.length, truncated: k < count && list.length > 0 }
        }),
        range: Effect.fn("Lists.range")(function* (key, start, stop, cursor) {
          yield* checkIndex("start", start)
          yield* checkIndex("stop", stop)
          const from = yield* decodeProgressCursor(cursor)
          const list = (yield* store.getTyped(key, "list"))?.value ?? []
          const [s, e] = resolveRange(list.length, start, stop)
          const page = new Page<Item>(limits.maxItems, budget)
          let i = s + from
          for (; i <= e; i++) if (!page.offer(list[i]!, identity)) break
          return i > e
            ? { items: page.items, length: list.length, truncated: false }
            : { items: page.items, length: list.length, truncated: true, cursor: String(i - s) }
        }),
        length: Effect.fn("Lists.length")(function* (key) {
          return { length: (yield* store.getTyped(key, "list"))?.value.length ?? 0 }
        })
      })
    }).pipe(withKeyGuard(listKeys))
  )
}
