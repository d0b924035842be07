/**
 * Redis sorted sets: add with conditions, read ranges by index, score or lex
 * page by page, remove, score and increment.
 */

import { Context, Effect, Layer } from "effect"
import type { Redis } from "ioredis"
import { quote } from "../Errors.ts"
import { type Limits, ServerConfig } from "../layers/Config.ts"
import { RedisClient } from "../layers/RedisClient.ts"
import {
  type CollectionError,
  checkWrite,
  decodeWrite,
  type Item,
  invalid,
  type Paged,
  toWriteReply,
  WRITE_LUA,
  type WriteOptions,
  writeArgs
} from "./Collection.ts"
import { type KeysOf, withKeyGuard } from "./KeyNames.ts"
import { MemoryStore } from "./MemoryStore.ts"
import { pageScripts, rangeIntoPage } from "./PageScripts.ts"
import { decodeProgressCursor, itemBudget, memberBytes, memberKey, Page } from "./Paging.ts"
import { explainWrongType } from "./RedisTypes.ts"
import { type Encoding, toBuffer } from "./Values.ts"
import { parseRange, parseScore, type Score, selectRange, toScore, type ZRangeQuery } from "./ZRange.ts"

export type { Score, ZRangeQuery } from "./ZRange.ts"

export interface ZAddOptions extends WriteOptions {
  /** ifAbsent: only add new members (NX); ifPresent: only update existing ones (XX). */
  readonly condition?: "ifAbsent" | "ifPresent" | undefined
  /** Update an existing member only if the new score is greater (gt) or less (lt) (GT/LT). */
  readonly compare?: "gt" | "lt" | undefined
}

export interface ZMember extends Item {
  readonly score?: Score
}

export interface SortedSetsShape {
  /** ZADD: add members or update their scores; returns how many were added and how many changed score. */
  readonly zadd: (
    key: string,
    members: ReadonlyArray<{ readonly member: string; readonly score: number }>,
    options?: ZAddOptions
  ) => Effect.Effect<{ readonly added: number; readonly updated: number }, CollectionError>
  /** ZRANGE (by index, score or lex; REV; LIMIT), one page at a time. */
  readonly zrange: (key: string, query: ZRangeQuery) => Effect.Effect<Paged<ZMember>, CollectionError>
  /** ZREM: remove members; returns how many were there. An emptied sorted set disappears. */
  readonly zrem: (
    key: string,
    members: ReadonlyArray<string>,
    encoding?: Encoding
  ) => Effect.Effect<{ readonly removed: number }, CollectionError>
  /** ZSCORE: `found: false` for a missing key or member. */
  readonly zscore: (
    key: string,
    member: string,
    encoding?: Encoding
  ) => Effect.Effect<{ readonly found: boolean; readonly score: Score | null }, CollectionError>
  /** ZINCRBY: add to a member's score (created at 0); returns the new score. */
  readonly zincrby: (
    key: string,
    member: string,
    increment: number,
    encoding?: Encoding
  ) => Effect.Effect<{ readonly score: Score }, CollectionError>
}

const checkScores = (members: ReadonlyArray<{ readonly score: number }>) => {
  const bad = members.find((m) => !Number.isFinite(m.score))
  return bad === undefined ? Effect.void : Effect.fail(invalid(`score must be a finite number, got ${bad.score}.`))
}

const checkZAddOptions = (options: ZAddOptions | undefined) =>
  options?.condition === "ifAbsent" && options.compare !== undefined
    ? Effect.fail(
        invalid(
          'condition "ifAbsent" cannot be combined with compare (Redis: GT, LT and NX are not compatible). ifAbsent never updates scores, so leave compare out.'
        )
      )
    : Effect.void

const checkIncrement = (n: number) =>
  Number.isFinite(n) ? Effect.void : Effect.fail(invalid(`increment must be a finite number, got ${n}.`))

const notANumber = (key: string) =>
  invalid(
    `zincrby on ${quote(key)} would make the score NaN (inf plus -inf). Use another increment or reset the score with zadd.`
  )

const zMember =
  (score: Score | undefined) =>
  (v: Item): ZMember =>
    score === undefined ? v : { ...v, score }

/** ZADD's checks, the same for both backings: TTL, options, scores, then the members. */
const checkZAdd = (
  members: ReadonlyArray<{ readonly member: string; readonly score: number }>,
  options: ZAddOptions | undefined,
  limits: Limits
) =>
  Effect.gen(function* () {
    yield* checkZAddOptions(options)
    yield* checkScores(members)
    return yield* checkWrite(
      "zadd members",
      members.map((m) => m.member),
      options,
      limits
    )
  })

/** The key each call names, checked before it runs (KeyNames.ts). */
const zsetKeys: KeysOf<SortedSetsShape> = {
  zadd: (key) => [key],
  zrange: (key) => [key],
  zrem: (key) => [key],
  zscore: (key) => [key],
  zincrby: (key) => [key]
}

export class SortedSets extends Context.Service<SortedSets, SortedSetsShape>()("effect-redis-mcp/SortedSets") {
  /** Backed by Redis. */
  static readonly layer = Layer.effect(
    SortedSets,
    Effect.gen(function* () {
      const redis = yield* RedisClient
      const { limits } = yield* ServerConfig
      const budget = itemBudget(limits)
      const write = redis.script("zset_write", WRITE_LUA)
      const asZset = (key: string) => explainWrongType(redis, key, "zset")
      const r = (c: unknown) => c as Redis

      const pages = pageScripts(redis.script)

      return SortedSets.of({
        zadd: Effect.fn("SortedSets.zadd")(function* (key, members, options) {
          const { ttl, bufs } = yield* checkZAdd(members, options, limits)
          const words = [
            ...(options?.condition === "ifAbsent" ? ["NX"] : options?.condition === "ifPresent" ? ["XX"] : []),
            ...(options?.compare === "gt" ? ["GT"] : options?.compare === "lt" ? ["LT"] : []),
            "CH"
          ]
          const pairs = members.flatMap((m, i) => [String(m.score), bufs[i]!])
          const reply = toWriteReply(
            yield* write([key], writeArgs("ZADD", ttl, 2, words, pairs, "ZCARD"), { idempotent: true }).pipe(
              asZset(key)
            )
          )
          const added = reply.after - reply.before
          return { added, updated: reply.sum - added }
        }),
        zrange: Effect.fn("SortedSets.zrange")(function* (key, query) {
          const range = yield* parseRange(query)
          const progress = yield* decodeProgressCursor(query.cursor)
          const withScores = query.withScores === true
          const page = new Page<ZMember>(limits.maxItems, budget)
          const r = yield* rangeIntoPage(
            (args) => pages.range([key], args, { idempotent: true }).pipe(asZset(key)),
            {
              kind: range.by === "index" ? "zindex" : range.by === "score" ? "zscore" : "zlex",
              start: range.by === "index" ? range.start : range.start.arg,
              stop: range.by === "index" ? range.stop : range.stop.arg,
              reverse: query.reverse === true,
              offset: query.offset ?? 0,
              count: query.count,
              progress
            },
            page,
            (item) => zMember(withScores && item.score !== undefined ? parseScore(item.score) : undefined)
          )
          return r.done
            ? { items: page.items, truncated: false }
            : { items: page.items, truncated: true, cursor: String(r.progress) }
        }),
        zrem: Effect.fn("SortedSets.zrem")(function* (key, members, encoding) {
          const bufs = yield* decodeWrite("zrem members", members, encoding, limits)
          const removed = yield* redis
            .run("ZREM", (c) => r(c).zrem(key, ...bufs), { idempotent: true })
            .pipe(asZset(key))
          return { removed }
        }),
        zscore: Effect.fn("SortedSets.zscore")(function* (key, member, encoding) {
          const buf = yield* toBuffer(member, encoding)
          const score = yield* redis.run("ZSCORE", (c) => r(c).zscore(key, buf), { idempotent: true }).pipe(asZset(key))
          return score === null ? { found: false, score: null } : { found: true, score: parseScore(score) }
        }),
        zincrby: Effect.fn("SortedSets.zincrby")(function* (key, member, increment, encoding) {
          yield* checkIncrement(increment)
          const buf = yield* toBuffer(member, encoding)
          const score = yield* redis
            .run("ZINCRBY", (c) => r(c).zincrby(key, increment, buf))
            .pipe(
              asZset(key),
              Effect.catchTag("RedisCommandError", (e) => Effect.fail(/NaN/.test(e.message) ? notANumber(key) : e))
            )
          return { score: parseScore(score) }
        })
      })
    }).pipe(withKeyGuard(zsetKeys))
  )

  /** On the shared in-memory keyspace. */
  static readonly layerMemory = Layer.effect(
    SortedSets,
    Effect.gen(function* () {
      const store = yield* MemoryStore
      const { limits } = yield* ServerConfig
      const budget = itemBudget(limits)

      const getOrCreate = Effect.fn(function* (key: string) {
        const existing = yield* store.getTyped(key, "zset")
        if (existing !== undefined) return existing
        const entry = { type: "zset" as const, expiresAt: null, value: new Map<string, number>() }
        yield* store.put(key, entry)
        return entry
      })

      return SortedSets.of({
        zadd: Effect.fn("SortedSets.zadd")(function* (key, members, options) {
          const { ttl, bufs } = yield* checkZAdd(members, options, limits)
          const entry = yield* getOrCreate(key)
          let added = 0
          let updated = 0
          members.forEach(({ score }, i) => {
            const k = memberKey(bufs[i]!)
            const current = entry.value.get(k)
            if (current === undefined) {
              if (options?.condition === "ifPresent") return
              entry.value.set(k, score)
              added++
              return
            }
            if (options?.condition === "ifAbsent") return
            if (options?.compare === "gt" && !(score > current)) return
            if (options?.compare === "lt" && !(score < current)) return
            if (score !== current) {
              entry.value.set(k, score)
              updated++
            }
          })
          yield* store.dropIfEmpty(key)
          if (ttl > 0 && entry.value.size > 0) entry.expiresAt = (yield* store.now) + ttl * 1000
          return { added, updated }
        }),
        zrange: Effect.fn("SortedSets.zrange")(function* (key, query) {
          const range = yield* parseRange(query)
          const from = yield* decodeProgressCursor(query.cursor)
          const entry = yield* store.getTyped(key, "zset")
          const selected = selectRange(
            entry?.value ?? new Map(),
            range,
            query.reverse === true,
            query.offset,
            query.count
          )
          const page = new Page<ZMember>(limits.maxItems, budget)
          let i = from
          for (; i < selected.length; i++) {
            const [k, score] = selected[i]!
            if (!page.offer(memberBytes(k), zMember(query.withScores === true ? toScore(score) : undefined))) break
          }
          return i >= selected.length
            ? { items: page.items, truncated: false }
            : { items: page.items, truncated: true, cursor: String(i) }
        }),
        zrem: Effect.fn("SortedSets.zrem")(function* (key, members, encoding) {
          const bufs = yield* decodeWrite("zrem members", members, encoding, limits)
          const entry = yield* store.getTyped(key, "zset")
          if (entry === undefined) return { removed: 0 }
          let removed = 0
          for (const b of bufs) if (entry.value.delete(memberKey(b))) removed++
          yield* store.dropIfEmpty(key)
          return { removed }
        }),
        zscore: Effect.fn("SortedSets.zscore")(function* (key, member, encoding) {
          const buf = yield* toBuffer(member, encoding)
          const score = (yield* store.getTyped(key, "zset"))?.value.get(memberKey(buf))
          return score === undefined ? { found: false, score: null } : { found: true, score: toScore(score) }
        }),
        zincrby: Effect.fn("SortedSets.zincrby")(function* (key, member, increment, encoding) {
          yield* checkIncrement(increment)
          const buf = yield* toBuffer(member, encoding)
          const existing = yield* store.getTyped(key, "zset")
          const next = (existing?.value.get(memberKey(buf)) ?? 0) + increment
          if (Number.isNaN(next)) return yield* notANumber(key)
          const entry = yield* getOrCreate(key)
          entry.value.set(memberKey(buf), next)
          return { score: toScore(next) }
        })
      })
    }).pipe(withKeyGuard(zsetKeys))
  )
}
