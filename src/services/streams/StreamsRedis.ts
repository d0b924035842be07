/**
 * The Streams service on Redis. Every argument is checked first (`StreamArgs`).
 * Reads go through the Lua scripts of StreamScripts.ts, which stop at the
 * result's caps before anything is sent; a read asked to wait (`blockMs` > 0)
 * with nothing to read yet waits without holding up other calls
 * (StreamBlocking.ts), then reads what fits. On a Cluster the streams of one
 * `xread` must share a hash slot (InvalidArgument otherwise, before anything is
 * sent: Redis would answer CROSSSLOT).
 */
import { Clock, Effect, Option, Semaphore } from "effect"
import { InvalidArgument, NotFound, quote, type RedisError, type WrongType } from "../../Errors.ts"
import { RedisClient } from "../../layers/RedisClient.ts"
import { explainWrongType } from "../RedisTypes.ts"
import * as Args from "./StreamArgs.ts"
import { type Arg, checkSameSlot, MAX_BLOCKING_CONNECTIONS, makeWaiter, send } from "./StreamBlocking.ts"
import { readEntries } from "./StreamBudget.ts"
import * as Ids from "./StreamIds.ts"
import * as Plans from "./StreamPlans.ts"
import { XAUTOCLAIM_LUA, XRANGE_LUA, XREAD_LUA, XREADGROUP_NEW_LUA, XREADGROUP_PENDING_LUA } from "./StreamScripts.ts"
import type { StreamEntry, StreamsShape, XReadStream } from "./StreamTypes.ts"

const text = (x: unknown): string => (Buffer.isBuffer(x) ? x.toString("utf8") : String(x))

/** A flat `[field, value, …]` reply (or a RESP2 nested one) as a Map. */
const asMap = (reply: unknown): Map<string, unknown> => {
  const out = new Map<string, unknown>()
  if (!Array.isArray(reply)) return out
  for (let i = 0; i + 1 < reply.length; i += 2) out.set(text(reply[i]), reply[i + 1])
  return out
}

const num = (x: unknown): number => (typeof x === "number" ? x : Number(text(x)))

const entryOrNull = (x: unknown): StreamEntry | null => {
  if (!Array.isArray(x) || x.length < 2) return null
  return Args.toEntry(text(x[0]), (x[1] as Array<Buffer> | null) ?? null)
}

export const makeRedis = Effect.gen(function* () {
  const redis = yield* RedisClient
  const limits = yield* Args.streamLimits
  const slots = yield* Semaphore.make(MAX_BLOCKING_CONNECTIONS)

  const call = (command: string, args: ReadonlyArray<Arg>, idempotent: boolean) =>
    redis.run(command, (c) => send(c, command, args), { idempotent })

  /** Map Redis' stream error replies to what the memory layer reports for the same mistake. */
  const domainErrors =
    (key: string, group?: string) =>
    <A, E, R>(self: Effect.Effect<A, E | RedisError, R>) =>
      Effect.catchTag(
        self as Effect.Effect<A, RedisError, R>,
        "RedisCommandError",
        (e): Effect.Effect<never, RedisError | NotFound | InvalidArgument> => {
          const m = e.message
          if (/NOGROUP/.test(m)) return Effect.fail(new NotFound({ message: Args.noGroup(key, group ?? "?") }))
          if (/equal or smaller than the target stream top item/i.test(m))
            return Effect.fail(Args.addIdError("notGreater", key))
          if (/must be greater than 0-0/i.test(m)) return Effect.fail(Args.addIdError("zero", key))
          if (/Elements are too large/i.test(m)) return Effect.fail(Args.addIdError("overflow", key))
          if (/requires the key to exist/i.test(m))
            return Effect.fail(
              new NotFound({
                message: `Stream ${quote(key)} does not exist. Pass mkstream: true to create it with the group, or xadd to it first.`
              })
            )
          if (/Invalid stream ID|invalid (start|end) ID/i.test(m))
            return Effect.fail(new InvalidArgument({ message: `${m}. Check the ids against the tool's description.` }))
          return Effect.fail(e)
        }
      ) as Effect.Effect<A, E | RedisError | NotFound | InvalidArgument, R>

  /** One key: WrongType names its actual type; stream error replies become domain errors. */
  const onKey = (key: string, group?: string) => {
    const explain = explainWrongType(redis, key, "stream")
    const domain = domainErrors(key, group)
    return <A, E, R>(self: Effect.Effect<A, E | RedisError, R>) => explain(domain(self))
  }

  /** Several keys (XREAD): on WRONGTYPE, find which key is not a stream. */
  const onKeys =
    (keys: ReadonlyArray<string>) =>
    <A, E, R>(self: Effect.Effect<A, E | WrongType, R>): Effect.Effect<A, E | WrongType | RedisError, R> =>
      Effect.catchTag(self as Effect.Effect<A, WrongType, R>, "WrongType", (e) =>
        Effect.gen(function* () {
          for (const key of keys) {
            const type = yield* redis.run("TYPE", (c) => c.type(key), { idempotent: true })
            if (type !== "none" && type !== "stream") {
              return yield* explainWrongType(redis, key, "stream")(Effect.fail(e))
            }
          }
          return yield* Effect.fail(e)
        })
      ) as Effect.Effect<A, E | WrongType | RedisError, R>

  const waitForEntry = makeWaiter(redis, limits, slots)

  const budget = limits.entryBudgetBytes
  const scripts = {
    range: redis.script("xrange_page", XRANGE_LUA, { buffers: true, readOnly: true }),
    read: redis.script("xread_page", XREAD_LUA, { buffers: true, readOnly: true }),
    readNew: redis.script("xreadgroup_new", XREADGROUP_NEW_LUA, { buffers: true }),
    readPending: redis.script("xreadgroup_pending", XREADGROUP_PENDING_LUA, { buffers: true }),
    autoclaim: redis.script("xautoclaim_page", XAUTOCLAIM_LUA, { buffers: true })
  }
  const flat = (reply: unknown) => reply as ReadonlyArray<unknown>

  const shape: StreamsShape = {
    xadd: Effect.fn("Streams.xadd")(function* (input) {
      const plan = yield* Plans.planAdd(input, limits)
      const id = plan.id._tag === "Auto" ? "*" : plan.id._tag === "AutoSeq" ? `${plan.id.ms}-*` : Ids.format(plan.id.id)
      const trim = plan.maxLen === undefined ? [] : ["MAXLEN", plan.approximate ? "~" : "=", plan.maxLen]
      const reply = yield* call("XADD", [plan.key, ...trim, id, ...plan.pairs.flat()], false).pipe(onKey(plan.key))
      return { id: text(reply) }
    }),

    xrange: Effect.fn("Streams.xrange")(function* (input) {
      const plan = yield* Plans.planRange(input, limits)
      const [start, end] = [Ids.format(plan.start), Ids.format(plan.end)]
      const args = plan.reverse ? ["XREVRANGE", end, start] : ["XRANGE", start, end]
      const reply = flat(
        yield* scripts.range([plan.key], [...args, plan.count, budget], { idempotent: true }).pipe(onKey(plan.key))
      )
      const { entries } = readEntries(reply, 2, Number(reply[1]), budget)
      return Number(reply[0]) === 1 && entries.length > 0
        ? { entries, truncated: true, cursor: Plans.rangeCursor(entries) }
        : { entries, truncated: false }
    }),

    xread: Effect.fn("Streams.xread")(function* (input) {
      const plan = yield* Plans.planRead(input, limits)
      const keys = plan.streams.map((s) => s.key)
      if (redis.settings.mode === "cluster") yield* checkSameSlot(keys, redis.keyPrefix)
      const read = (ids: ReadonlyArray<string>) =>
        scripts
          .read(keys, [plan.count, limits.maxItems, budget, ...ids], { idempotent: true })
          .pipe(onKeys(keys), Effect.map(flat))
      const shape = (reply: ReadonlyArray<unknown>) => {
        const streams: Array<XReadStream> = []
        let at = 0
        for (const key of keys) {
          const after = String(reply[at])
          const more = Number(reply[at + 1]) === 1
          const { entries, next } = readEntries(reply, at + 3, Number(reply[at + 2]), budget)
          at = next
          streams.push({ key, entries, lastId: entries.at(-1)?.id ?? after, truncated: more })
        }
        return streams
      }
      const first = shape(yield* read(plan.streams.map((s) => (s.after === "$" ? "$" : Ids.format(s.after)))))
      if (plan.blockMs === 0 || first.some((s) => s.entries.length > 0)) return { streams: first }
      // Nothing yet: wait (bounded) until an entry arrives, then read what fits. The wake-up read
      // takes at most one entry per stream, and only to learn that something arrived.
      const after = first.map((s) => s.lastId)
      const woke = yield* waitForEntry(keys, after, plan.blockMs).pipe(onKeys(keys))
      return { streams: woke ? shape(yield* read(after)) : first }
    }),

    xlen: Effect.fn("Streams.xlen")(function* (key) {
      return { length: num(yield* call("XLEN", [key], true).pipe(onKey(key))) }
    }),

    xdel: Effect.fn("Streams.xdel")(function* (key, ids) {
      const canonical = yield* Args.idList(ids, limits)
      return { deleted: num(yield* call("XDEL", [key, ...canonical], true).pipe(onKey(key))) }
    }),

    xtrim: Effect.fn("Streams.xtrim")(function* (input) {
      const plan = yield* Plans.planTrim(input)
      const how = plan.approximate ? "~" : "="
      const strategy =
        plan.strategy._tag === "MaxLen"
          ? ["MAXLEN", how, plan.strategy.maxLen]
          : ["MINID", how, Ids.format(plan.strategy.minId)]
      return { deleted: num(yield* call("XTRIM", [plan.key, ...strategy], true).pipe(onKey(plan.key))) }
    }),

    xgroupCreate: Effect.fn("Streams.xgroupCreate")(function* (input) {
      const plan = yield* Plans.planGroupCreate(input)
      const start = plan.start === "$" ? "$" : Ids.format(plan.start)
      const args = ["CREATE", plan.key, plan.group, start, ...(plan.mkstream ? ["MKSTREAM"] : [])]
      return yield* call("XGROUP", args, true).pipe(
        Effect.as({ created: true }),
        Effect.catchTag("RedisCommandError", (e) =>
          /BUSYGROUP/.test(e.message) ? Effect.succeed({ created: false }) : Effect.fail(e)
        ),
        onKey(plan.key, plan.group)
      )
    }),

    xreadgroup: Effect.fn("Streams.xreadgroup")(function* (input) {
      const plan = yield* Plans.planReadGroup(input, limits)
      if (plan.after !== ">") {
        const reply = flat(
          yield* scripts
            .readPending([plan.key], [plan.group, plan.consumer, Ids.format(plan.after), plan.count, budget])
            .pipe(onKey(plan.key, plan.group))
        )
        const { entries } = readEntries(reply, 2, Number(reply[1]), budget)
        return Number(reply[0]) === 1 && entries.length > 0
          ? { entries, truncated: true, cursor: entries[entries.length - 1]!.id }
          : { entries, truncated: false }
      }
      const readNew = scripts
        .readNew([plan.key], [plan.group, plan.consumer, plan.count, budget, plan.noAck ? "1" : "0"])
        .pipe(onKey(plan.key, plan.group), Effect.map(flat))
      const shape = (reply: ReadonlyArray<unknown>) => ({
        lastDelivered: String(reply[0]),
        more: Number(reply[1]) === 1,
        entries: readEntries(reply, 3, Number(reply[2]), budget).entries
      })
      let got = shape(yield* readNew)
      if (plan.blockMs > 0 && got.entries.length === 0) {
        // Wait (bounded) for an entry after the group's last delivered one, then deliver what fits;
        // another consumer may take it first, so go on until the time is up.
        const deadline = (yield* Clock.currentTimeMillis) + plan.blockMs
        while (got.entries.length === 0) {
          const left = deadline - (yield* Clock.currentTimeMillis)
          if (left <= 0) break
          const woke = yield* waitForEntry([plan.key], [got.lastDelivered], left).pipe(onKey(plan.key, plan.group))
          if (!woke) break
          got = shape(yield* readNew)
        }
      }
      return { entries: got.entries, truncated: got.more }
    }),

    xack: Effect.fn("Streams.xack")(function* (key, group, ids) {
      yield* Args.nonEmpty(group, "group")
      const canonical = yield* Args.idList(ids, limits)
      return { acked: num(yield* call("XACK", [key, group, ...canonical], true).pipe(onKey(key, group))) }
    }),

    xpending: Effect.fn("Streams.xpending")(function* (input) {
      const plan = yield* Plans.planPending(input, limits)
      const detailArgs = [
        plan.key,
        plan.group,
        ...(plan.minIdleMs > 0 ? ["IDLE", plan.minIdleMs] : []),
        Ids.format(plan.start),
        Ids.format(plan.end),
        plan.count + 1,
        ...(plan.consumer === undefined ? [] : [plan.consumer])
      ]
      const [summary, detail] = yield* Effect.all(
        [call("XPENDING", [plan.key, plan.group], true), call("XPENDING", detailArgs, true)],
        { concurrency: "unbounded" }
      ).pipe(onKey(plan.key, plan.group))
      const [count, minId, maxId, consumers] = summary as [number, Buffer | null, Buffer | null, Array<unknown> | null]
      const matching = (detail as Array<[Buffer, Buffer, number, number]>).map(([id, consumer, idle, deliveries]) => ({
        id: text(id),
        consumer: text(consumer),
        idleMs: num(idle),
        deliveries: num(deliveries)
      }))
      const entries = matching.slice(0, plan.count)
      const head = {
        pending: num(count),
        minId: minId === null ? null : text(minId),
        maxId: maxId === null ? null : text(maxId),
        consumers: (consumers ?? []).map((c) => {
          const [name, n] = c as [Buffer, Buffer]
          return { consumer: text(name), pending: num(n) }
        })
      }
      return matching.length > plan.count
        ? { ...head, entries, truncated: true, cursor: `(${entries[entries.length - 1]!.id}` }
        : { ...head, entries, truncated: false }
    }),

    xautoclaim: Effect.fn("Streams.xautoclaim")(function* (input) {
      const plan = yield* Plans.planAutoClaim(input, limits)
      const args = [plan.group, plan.consumer, plan.minIdleMs, Ids.format(plan.start), plan.count, budget]
      const reply = flat(yield* scripts.autoclaim([plan.key], args).pipe(onKey(plan.key, plan.group)))
      const cursor = text(reply[0])
      const { entries, next } = readEntries(reply, 2, Number(reply[1]), budget)
      return {
        entries,
        deletedIds: reply.slice(next).map(text),
        cursor,
        done: cursor === "0-0",
        truncated: entries.some((e) => e.truncated === true)
      }
    }),

    xinfo: Effect.fn("Streams.xinfo")(function* (input) {
      const streamReply = yield* call("XINFO", ["STREAM", input.key], true).pipe(
        Effect.map(Option.some),
        Effect.catchTag("RedisCommandError", (e) =>
          /no such key/i.test(e.message) ? Effect.succeed(Option.none()) : Effect.fail(e)
        ),
        onKey(input.key)
      )
      if (Option.isNone(streamReply)) return { found: false }
      const info = asMap(streamReply.value)
      const stream = {
        length: num(info.get("length")),
        lastGeneratedId: text(info.get("last-generated-id")),
        entriesAdded: num(info.get("entries-added") ?? info.get("length")),
        groups: num(info.get("groups")),
        firstEntry: entryOrNull(info.get("first-entry")),
        lastEntry: entryOrNull(info.get("last-entry"))
      }
      const groupsReply = yield* call("XINFO", ["GROUPS", input.key], true).pipe(onKey(input.key))
      const groups = (groupsReply as Array<unknown>).map((g) => {
        const m = asMap(g)
        return {
          name: text(m.get("name")),
          consumers: num(m.get("consumers")),
          pending: num(m.get("pending")),
          lastDeliveredId: text(m.get("last-delivered-id"))
        }
      })
      if (input.group === undefined) return { found: true, stream, groups }
      const consumersReply = yield* call("XINFO", ["CONSUMERS", input.key, input.group], true).pipe(
        onKey(input.key, input.group)
      )
      const consumers = (consumersReply as Array<unknown>).map((c) => {
        const m = asMap(c)
        return { name: text(m.get("name")), pending: num(m.get("pending")), idleMs: num(m.get("idle")) }
      })
      return { found: true, stream, groups, consumers }
    })
  }
  return shape
})
