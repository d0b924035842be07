/**
 * The in-memory stream: entries in id order, the last generated id, and
 * consumer groups with their pending entries lists (PEL), delivery counts and
 * delivery times. Mutable and synchronous; `StreamsMemory` runs it inside the
 * shared `MemoryStore` with times taken from Effect's Clock. Follows Redis 7.0.
 */
import * as Ids from "./StreamIds.ts"

export type Fields = ReadonlyArray<readonly [Buffer, Buffer]>

export interface MemEntry {
  readonly id: Ids.StreamId
  readonly idText: string
  readonly fields: Fields
}

export interface Nack {
  readonly id: Ids.StreamId
  readonly idText: string
  consumer: string
  deliveryTime: number
  deliveryCount: number
}

export interface Consumer {
  readonly name: string
  seenTime: number
  readonly pending: Set<string>
}

export interface Group {
  lastDeliveredId: Ids.StreamId
  readonly pel: Map<string, Nack>
  readonly consumers: Map<string, Consumer>
}

export interface MemStream {
  readonly entries: Array<MemEntry>
  lastId: Ids.StreamId
  entriesAdded: number
  readonly groups: Map<string, Group>
}

export const empty = (): MemStream => ({ entries: [], lastId: Ids.ZERO, entriesAdded: 0, groups: new Map() })

/** Index of the first entry with id >= `id`. */
export const lowerBound = (s: MemStream, id: Ids.StreamId): number => {
  let lo = 0
  let hi = s.entries.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (Ids.compare(s.entries[mid]!.id, id) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

export const find = (s: MemStream, id: Ids.StreamId): MemEntry | undefined => {
  const i = lowerBound(s, id)
  const e = s.entries[i]
  return e !== undefined && Ids.equals(e.id, id) ? e : undefined
}

/** Up to `limit` entries with start <= id <= end, ascending (or descending with `reverse`). */
export const range = (
  s: MemStream,
  start: Ids.StreamId,
  end: Ids.StreamId,
  limit: number,
  reverse: boolean
): Array<MemEntry> => {
  if (Ids.compare(start, end) > 0) return []
  const from = lowerBound(s, start)
  const to = (() => {
    const next = Ids.next(end)
    return next === undefined ? s.entries.length : lowerBound(s, next)
  })()
  // Only the `limit` entries wanted are sliced out, never the whole range.
  return reverse
    ? s.entries.slice(Math.max(from, to - limit), to).reverse()
    : s.entries.slice(from, Math.min(to, from + limit))
}

/** Append with a valid new id (see `Ids.nextAddId`). */
export const append = (s: MemStream, id: Ids.StreamId, fields: Fields): MemEntry => {
  const entry = { id, idText: Ids.format(id), fields }
  s.entries.push(entry)
  s.lastId = id
  s.entriesAdded += 1
  return entry
}

export const trimMaxLen = (s: MemStream, maxLen: number): number => {
  const extra = Math.max(0, s.entries.length - maxLen)
  s.entries.splice(0, extra)
  return extra
}

export const trimMinId = (s: MemStream, minId: Ids.StreamId): number => {
  const n = lowerBound(s, minId)
  s.entries.splice(0, n)
  return n
}

/** Delete entries by id; pending entries that name them stay (as in Redis). */
export const remove = (s: MemStream, ids: ReadonlyArray<Ids.StreamId>): number => {
  let deleted = 0
  for (const id of ids) {
    const i = lowerBound(s, id)
    const e = s.entries[i]
    if (e !== undefined && Ids.equals(e.id, id)) {
      s.entries.splice(i, 1)
      deleted += 1
    }
  }
  return deleted
}

export const createGroup = (s: MemStream, name: string, start: Ids.StreamId | "$"): boolean => {
  if (s.groups.has(name)) return false
  s.groups.set(name, { lastDeliveredId: start === "$" ? s.lastId : start, pel: new Map(), consumers: new Map() })
  return true
}

const consumerOf = (g: Group, name: string, now: number): Consumer => {
  let c = g.consumers.get(name)
  if (c === undefined) {
    c = { name, seenTime: now, pending: new Set() }
    g.consumers.set(name, c)
  }
  c.seenTime = now
  return c
}

/** XREADGROUP `>`: deliver up to `count` entries after the group's last delivered id to `consumer`. */
export const deliverNew = (
  s: MemStream,
  g: Group,
  consumer: string,
  count: number,
  now: number,
  noAck: boolean
): Array<MemEntry> => {
  const after = Ids.next(g.lastDeliveredId)
  if (after === undefined) return []
  const from = lowerBound(s, after)
  const out = s.entries.slice(from, from + count)
  if (out.length === 0) return out
  const c = consumerOf(g, consumer, now)
  for (const e of out) {
    g.lastDeliveredId = e.id
    if (noAck) continue
    const existing = g.pel.get(e.idText)
    if (existing !== undefined) g.consumers.get(existing.consumer)?.pending.delete(e.idText)
    g.pel.set(e.idText, { id: e.id, idText: e.idText, consumer, deliveryTime: now, deliveryCount: 1 })
    c.pending.add(e.idText)
  }
  return out
}

/** The group's pending entries in id order. */
export const sortedPel = (g: Group): Array<Nack> => [...g.pel.values()].sort((a, b) => Ids.compare(a.id, b.id))

/**
 * XREADGROUP with an id: the consumer's own pending entries after `after`
 * (entries deleted since delivery come back without fields), counted as a new delivery.
 */
export const redeliverPending = (
  s: MemStream,
  g: Group,
  consumer: string,
  after: Ids.StreamId,
  count: number,
  now: number
): Array<{ readonly idText: string; readonly entry: MemEntry | undefined }> => {
  consumerOf(g, consumer, now)
  const out: Array<{ idText: string; entry: MemEntry | undefined }> = []
  for (const nack of sortedPel(g)) {
    if (out.length >= count) break
    if (nack.consumer !== consumer || Ids.compare(nack.id, after) <= 0) continue
    nack.deliveryTime = now
    nack.deliveryCount += 1
    out.push({ idText: nack.idText, entry: find(s, nack.id) })
  }
  return out
}

export const ack = (g: Group, ids: ReadonlyArray<string>): number => {
  let acked = 0
  for (const id of ids) {
    const nack = g.pel.get(id)
    if (nack === undefined) continue
    g.pel.delete(id)
    g.consumers.get(nack.consumer)?.pending.delete(id)
    acked += 1
  }
  return acked
}

const byName = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"))

/** Consumers sorted by name, as Redis lists them. */
export const sortedConsumers = (g: Group): Array<Consumer> =>
  [...g.consumers.values()].sort((a, b) => byName(a.name, b.name))

/** Groups sorted by name. */
export const sortedGroups = (s: MemStream): Array<[string, Group]> =>
  [...s.groups.entries()].sort((a, b) => byName(a[0], b[0]))

/**
 * XAUTOCLAIM: walk the PEL from `start`, transferring to `consumer` entries idle
 * at least `minIdleMs` and dropping entries deleted from the stream; stop after
 * `count` claimed-or-dropped entries or `count * 10` visited. The cursor is the
 * first id not visited, or 0-0 when the walk reached the end.
 */
export const autoclaim = (
  s: MemStream,
  g: Group,
  consumer: string,
  minIdleMs: number,
  start: Ids.StreamId,
  count: number,
  now: number
): { claimed: Array<MemEntry>; deleted: Array<string>; cursor: string } => {
  const pel = sortedPel(g).filter((n) => Ids.compare(n.id, start) >= 0)
  const claimed: Array<MemEntry> = []
  const deleted: Array<string> = []
  let attempts = count * 10
  let remaining = count
  let i = 0
  while (attempts > 0 && remaining > 0 && i < pel.length) {
    attempts -= 1
    const nack = pel[i++]!
    const entry = find(s, nack.id)
    if (entry === undefined) {
      g.pel.delete(nack.idText)
      g.consumers.get(nack.consumer)?.pending.delete(nack.idText)
      deleted.push(nack.idText)
      remaining -= 1
      continue
    }
    if (minIdleMs > 0 && now - nack.deliveryTime < minIdleMs) continue
    const c = consumerOf(g, consumer, now)
    if (nack.consumer !== consumer) {
      g.consumers.get(nack.consumer)?.pending.delete(nack.idText)
      nack.consumer = consumer
      c.pending.add(nack.idText)
    }
    nack.deliveryTime = now
    nack.deliveryCount += 1
    claimed.push(entry)
    remaining -= 1
  }
  const cursor = i < pel.length ? pel[i]!.idText : "0-0"
  return { claimed, deleted, cursor }
}
