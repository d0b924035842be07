/**
 * The Streams service on the shared in-memory keyspace (`MemoryStore`, entry
 * type "stream"). Ids and idle times come from Effect's Clock, so TestClock
 * drives them; a blocking read waits for the next add or for its deadline.
 */
import { Clock, Deferred, Duration, Effect } from "effect"
import { NotFound, quote } from "../../Errors.ts"
import { jsonBound } from "../Budget.ts"
import { MemoryStore } from "../MemoryStore.ts"
import * as Args from "./StreamArgs.ts"
import { type Candidate, cutEntry, entryCost, firstMisfit, takeEntries } from "./StreamBudget.ts"
import * as Ids from "./StreamIds.ts"
import * as Model from "./StreamModel.ts"
import * as Plans from "./StreamPlans.ts"
import type { StreamEntry, StreamsShape, XReadStream } from "./StreamTypes.ts"

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

  const budget = limits.entryBudgetBytes
  const candidate = (e: Model.MemEntry): Candidate => ({ id: e.idText, pairs: e.fields })

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
      const found = Model.range(s, plan.start, plan.end, plan.count + 1, plan.reverse)
      const { entries } = takeEntries(found.slice(0, plan.count).map(candidate), budget)
      return found.length > entries.length && entries.length > 0
        ? { entries, truncated: true, cursor: Plans.rangeCursor(entries) }
        : { entries, truncated: false }
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
        const out: Array<XReadStream> = []
        let used = 0
        let total = 0
        let stop = false
        for (const { key, after } of streams) {
          const s = yield* find(key)
          const from = Ids.next(after)
          const room = stop ? 0 : Math.min(plan.count, limits.maxItems - total)
          const found = s === undefined || from === undefined ? [] : Model.range(s, from, Ids.MAX, room + 1, false)
          const took = takeEntries(found.slice(0, room).map(candidate), budget, used)
          used = took.used
          total += took.entries.length
          stop ||= took.stopped
          const lastId = took.entries.at(-1)?.id ?? Ids.format(after)
          out.push({ key, entries: took.entries, lastId, truncated: found.length > took.entries.length })
        }
        return out
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
        const mine = Model.sortedPel(g)
          .filter((n) => n.consumer === plan.consumer && Ids.compare(n.id, after) > 0)
          .slice(0, plan.count + 1)
        const { entries } = takeEntries(
          mine.slice(0, plan.count).map((n) => ({ id: n.idText, pairs: Model.find(s, n.id)?.fields ?? null })),
          budget
        )
        // Count a new delivery for exactly the entries returned.
        Model.redeliverPending(s, g, plan.consumer, after, Math.max(1, entries.length), now)
        return mine.length > entries.length && entries.length > 0
          ? { entries, truncated: true, cursor: entries[entries.length - 1]!.id }
          : { entries, truncated: false }
      }
      const attempt = Effect.gen(function* () {
        const [s, g] = yield* findGroup(plan.key, plan.group)
        const now = yield* Clock.currentTimeMillis
        const after = Ids.next(g.lastDeliveredId)
        const from = after === undefined ? s.entries.length : Model.lowerBound(s, after)
        const next = s.entries.slice(from, from + plan.count + 1)
        const { entries } = takeEntries(next.slice(0, plan.count).map(candidate), budget)
        // Deliver exactly the entries returned: nothing becomes pending that the result does not show.
        Model.deliverNew(s, g, plan.consumer, Math.max(1, entries.length), now, plan.noAck)
        return { entries, truncated: next.length > entries.length }
      })
      return yield* blocking(plan.blockMs, attempt, (r) => r.entries.length > 0)
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
      // What XAUTOCLAIM would visit, chosen while it fits (as the Redis layer's script does).
      const visit = Model.sortedPel(g)
        .filter((n) => Ids.compare(n.id, plan.start) >= 0)
        .slice(0, plan.count * 10)
      let take = 0
      let used = 0
      let cut = false
      for (const nack of visit) {
        const entry = Model.find(s, nack.id)
        if (entry !== undefined && now - nack.deliveryTime < plan.minIdleMs) continue
        const cost =
          entry === undefined ? jsonBound(Buffer.from(nack.idText)) + 2 : entryCost(nack.idText, entry.fields)
        if (used + cost > budget) {
          if (take === 0) {
            cut = true
            take = 1
          }
          break
        }
        used += cost
        take++
        if (take >= plan.count) break
      }
      const r = Model.autoclaim(s, g, plan.consumer, plan.minIdleMs, plan.start, take === 0 ? plan.count : take, now)
      const entries = r.claimed.map((e) =>
        cut ? cutEntry(e.idText, e.fields, firstMisfit(e.idText, e.fields, budget), budget) : toEntry(e)
      )
      return { entries, deletedIds: r.deleted, cursor: r.cursor, done: r.cursor === "0-0", truncated: cut }
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
