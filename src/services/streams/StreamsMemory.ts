/**
 * The Streams service on the shared in-memory keyspace (`MemoryStore`, entry
 * type "stream"). Ids and idle times come from Effect's Clock, so TestClock
 * drives them; a blocking read waits for the next add or for its deadline.
 */
import { Clock, Deferred, Duration, Effect } from "effect"
import { NotFound, quote } from "../../Errors.ts"
import { MemoryStore } from "../MemoryStore.ts"
import * as Args from "./StreamArgs.ts"
import * as Ids from "./StreamIds.ts"
import * as Model from "./StreamModel.ts"
import * as Plans from "./StreamPlans.ts"
import type { StreamEntry, StreamsShape } from "./StreamTypes.ts"

const toEntry = (e: Model.MemEntry): StreamEntry => Args.toEntry(e.idText, e.fields.flat())

export const makeMemory = Effect.gen(function* () {
  const store = yield* MemoryStore
  const limits = yield* Args.streamLimits

  // Completed (and replaced) on every add, to wake blocked readers.
  let wake = Deferred.makeUnsafe<void>()
  const notify = Effect.sync(() => {
    const woken = wake
    wake = Deferred.makeUnsafe<void>()
    Deferred.doneUnsafe(woken, Effect.void)
  })

  const find = (key: string) =>
    Effect.map(store.getTyped(key, "stream"), (e) => e?.value as Model.MemStream | undefined)

  const findGroup = (key: string, group: string) =>
    Effect.flatMap(find(key), (s) => {
      const g = s?.groups.get(group)
      return s === undefined || g === undefined
        ? Effect.fail(new NotFound({ message: Args.noGroup(key, group) }))
        : Effect.succeed([s, g] as const)
    })

  const create = (key: string) =>
    Effect.gen(function* () {
      const s = Model.empty()
      yield* store.put(key, { type: "stream", expiresAt: null, value: s })
      return s
    })

  /** Run `attempt` until it has something or `blockMs` passed, waking on every add. */
  const blocking = <A, E>(blockMs: number, attempt: Effect.Effect<A, E>, hasData: (a: A) => boolean) =>
    Effect.gen(function* () {
      const deadline = (yield* Clock.currentTimeMillis) + blockMs
      while (true) {
        const woken = wake
        const result = yield* attempt
        if (blockMs === 0 || hasData(result)) return result
        const left = deadline - (yield* Clock.currentTimeMillis)
        if (left <= 0) return result
        yield* Effect.timeoutOption(Deferred.await(woken), Duration.millis(left))
      }
    })

  const withinBudget = (entries: ReadonlyArray<StreamEntry>) => {
    const fit = Args.withinBudget(entries, limits.entryBudgetBytes)
    return [fit.entries, fit.cut] as const
  }

  const shape: StreamsShape = {
    xadd: Effect.fn("Streams.xadd")(function* (input) {
      const plan = yield* Plans.planAdd(input, limits)
      const now = yield* Clock.currentTimeMillis
      const existing = yield* find(plan.key)
      const next = Ids.nextAddId(existing?.lastId ?? Ids.ZERO, plan.id, BigInt(now))
      if ("error" in next) return yield* Args.addIdError(next.error, plan.key)
      const s = existing ?? (yield* create(plan.key))
      Model.append(s, next.id, plan.pairs)
      if (plan.maxLen !== undefined) Model.trimMaxLen(s, plan.maxLen)
      yield* notify
      return { id: Ids.format(next.id) }
    }),

    xrange: Effect.fn("Streams.xrange")(function* (input) {
      const plan = yield* Plans.planRange(input, limits)
      const s = yield* find(plan.key)
      if (s === undefined) return { entries: [], truncated: false }
      const found = Model.range(s, plan.start, plan.end, plan.count + 1, plan.reverse).map(toEntry)
      const [entries, cut] = withinBudget(found.slice(0, plan.count))
      const truncated = cut || found.length > plan.count
      return truncated ? { entries, truncated, cursor: Plans.rangeCursor(entries) } : { entries, truncated }
    }),

    xread: Effect.fn("Streams.xread")(function* (input) {
      const plan = yield* Plans.planRead(input, limits)
      const streams: Array<{ key: string; after: Ids.StreamId }> = []
      for (const { key, after } of plan.streams) {
        // "$" is the stream's newest entry now (as the Redis layer resolves it), so the result can say where to go on.
        const newest = after === "$" ? (yield* find(key))?.entries.at(-1)?.id : undefined
        streams.push({ key, after: after === "$" ? (newest ?? Ids.ZERO) : after })
      }
      const attempt = Effect.gen(function* () {
        const found: Array<{ key: string; after: string; entries: Array<StreamEntry> }> = []
        for (const { key, after } of streams) {
          const s = yield* find(key)
          const from = Ids.next(after)
          const entries =
            s === undefined || from === undefined
              ? []
              : Model.range(s, from, Ids.MAX, plan.count + 1, false).map(toEntry)
          found.push({ key, after: Ids.format(after), entries })
        }
        return Args.shapeRead(found, plan.count, limits)
      })
      const result = yield* blocking(plan.blockMs, attempt, (out) => out.some((s) => s.entries.length > 0))
      return { streams: result }
    }),

    xlen: Effect.fn("Streams.xlen")(function* (key) {
      return { length: (yield* find(key))?.entries.length ?? 0 }
    }),

    xdel: Effect.fn("Streams.xdel")(function* (key, ids) {
      const canonical = yield* Args.idList(ids, limits)
      const s = yield* find(key)
      if (s === undefined) return { deleted: 0 }
      return {
        deleted: Model.remove(
          s,
          canonical.map((id) => Ids.parse(id)!)
        )
      }
    }),

    xtrim: Effect.fn("Streams.xtrim")(function* (input) {
      const plan = yield* Plans.planTrim(input)
      const s = yield* find(plan.key)
      if (s === undefined) return { deleted: 0 }
      const deleted =
        plan.strategy._tag === "MaxLen"
          ? Model.trimMaxLen(s, plan.strategy.maxLen)
          : Model.trimMinId(s, plan.strategy.minId)
      return { deleted }
    }),

    xgroupCreate: Effect.fn("Streams.xgroupCreate")(function* (input) {
      const plan = yield* Plans.planGroupCreate(input)
      const existing = yield* find(plan.key)
      if (existing === undefined && !plan.mkstream) {
        return yield* new NotFound({
          message: `Stream ${quote(plan.key)} does not exist. Pass mkstream: true to create it with the group, or xadd to it first.`
        })
      }
      const s = existing ?? (yield* create(plan.key))
      return { created: Model.createGroup(s, plan.group, plan.start) }
    }),

    xreadgroup: Effect.fn("Streams.xreadgroup")(function* (input) {
      const plan = yield* Plans.planReadGroup(input, limits)
      if (plan.after !== ">") {
        const after = plan.after
        const [s, g] = yield* findGroup(plan.key, plan.group)
        const now = yield* Clock.currentTimeMillis
        const found = Model.redeliverPending(s, g, plan.consumer, after, plan.count, now).map((p) =>
          p.entry === undefined ? Args.toEntry(p.idText, null) : toEntry(p.entry)
        )
        const [entries, cut] = withinBudget(found)
        const truncated = cut || found.length === plan.count
        return truncated && entries.length > 0
          ? { entries, truncated, cursor: entries[entries.length - 1]!.id }
          : { entries, truncated: false }
      }
      const attempt = Effect.gen(function* () {
        const [s, g] = yield* findGroup(plan.key, plan.group)
        const now = yield* Clock.currentTimeMillis
        return Model.deliverNew(s, g, plan.consumer, plan.count, now, plan.noAck).map(toEntry)
      })
      const found = yield* blocking(plan.blockMs, attempt, (entries) => entries.length > 0)
      const [entries, cut] = withinBudget(found)
      return cut ? { entries, truncated: true, cursor: entries[entries.length - 1]!.id } : { entries, truncated: false }
    }),

    xack: Effect.fn("Streams.xack")(function* (key, group, ids) {
      yield* Args.nonEmpty(group, "group")
      const canonical = yield* Args.idList(ids, limits)
      const g = (yield* find(key))?.groups.get(group)
      return { acked: g === undefined ? 0 : Model.ack(g, canonical) }
    }),

    xpending: Effect.fn("Streams.xpending")(function* (input) {
      const plan = yield* Plans.planPending(input, limits)
      const [, g] = yield* findGroup(plan.key, plan.group)
      const now = yield* Clock.currentTimeMillis
      const pel = Model.sortedPel(g)
      const consumers = Model.sortedConsumers(g)
        .filter((c) => c.pending.size > 0)
        .map((c) => ({ consumer: c.name, pending: c.pending.size }))
      const matching = pel
        .filter(
          (n) =>
            Ids.compare(n.id, plan.start) >= 0 &&
            Ids.compare(n.id, plan.end) <= 0 &&
            (plan.consumer === undefined || n.consumer === plan.consumer) &&
            now - n.deliveryTime >= plan.minIdleMs
        )
        .slice(0, plan.count + 1)
      const entries = matching
        .slice(0, plan.count)
        .map((n) => ({ id: n.idText, consumer: n.consumer, idleMs: now - n.deliveryTime, deliveries: n.deliveryCount }))
      const summary = {
        pending: pel.length,
        minId: pel.length > 0 ? pel[0]!.idText : null,
        maxId: pel.length > 0 ? pel[pel.length - 1]!.idText : null,
        consumers
      }
      return matching.length > plan.count
        ? { ...summary, entries, truncated: true, cursor: `(${entries[entries.length - 1]!.id}` }
        : { ...summary, entries, truncated: false }
    }),

    xautoclaim: Effect.fn("Streams.xautoclaim")(function* (input) {
      const plan = yield* Plans.planAutoClaim(input, limits)
      const [s, g] = yield* findGroup(plan.key, plan.group)
      const now = yield* Clock.currentTimeMillis
      const r = Model.autoclaim(s, g, plan.consumer, plan.minIdleMs, plan.start, plan.count, now)
      return Args.shapeAutoClaim(r.claimed.map(toEntry), r.deleted, r.cursor, limits)
    }),

    xinfo: Effect.fn("Streams.xinfo")(function* (input) {
      const s = yield* find(input.key)
      if (s === undefined) return { found: false }
      const now = yield* Clock.currentTimeMillis
      const first = s.entries[0]
      const last = s.entries[s.entries.length - 1]
      const stream = {
        length: s.entries.length,
        lastGeneratedId: Ids.format(s.lastId),
        entriesAdded: s.entriesAdded,
        groups: s.groups.size,
        firstEntry: first === undefined ? null : toEntry(first),
        lastEntry: last === undefined ? null : toEntry(last)
      }
      const groups = Model.sortedGroups(s).map(([name, g]) => ({
        name,
        consumers: g.consumers.size,
        pending: g.pel.size,
        lastDeliveredId: Ids.format(g.lastDeliveredId)
      }))
      if (input.group === undefined) return { found: true, stream, groups }
      const [, g] = yield* findGroup(input.key, input.group)
      const consumers = Model.sortedConsumers(g).map((c) => ({
        name: c.name,
        pending: c.pending.size,
        idleMs: now - c.seenTime
      }))
      return { found: true, stream, groups, consumers }
    })
  }
  return shape
})
