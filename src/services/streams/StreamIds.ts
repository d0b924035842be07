/**
 * Redis stream entry ids (`<ms>-<seq>`, two unsigned 64-bit numbers): parsing
 * for each place an id may appear, ordering, and formatting. Pure; shared by the
 * Redis layer (to refuse bad ids before Redis is touched) and the memory layer.
 */

export interface StreamId {
  readonly ms: bigint
  readonly seq: bigint
}

export const U64_MAX = 2n ** 64n - 1n
export const ZERO: StreamId = { ms: 0n, seq: 0n }
export const MAX: StreamId = { ms: U64_MAX, seq: U64_MAX }

const DIGITS = /^\d{1,20}$/

const u64 = (text: string): bigint | undefined => {
  if (!DIGITS.test(text)) return undefined
  const n = BigInt(text)
  return n <= U64_MAX ? n : undefined
}

/**
 * A concrete id: `ms-seq`, or `ms` alone meaning `ms-<missingSeq>`
 * (0 for a start bound or an exact id, the maximum for an end bound).
 */
export const parse = (text: string, missingSeq: bigint = 0n): StreamId | undefined => {
  const dash = text.indexOf("-")
  if (dash === -1) {
    const ms = u64(text)
    return ms === undefined ? undefined : { ms, seq: missingSeq }
  }
  const ms = u64(text.slice(0, dash))
  const seq = u64(text.slice(dash + 1))
  return ms === undefined || seq === undefined ? undefined : { ms, seq }
}

export const format = (id: StreamId): string => `${id.ms}-${id.seq}`

export const compare = (a: StreamId, b: StreamId): -1 | 0 | 1 =>
  a.ms < b.ms ? -1 : a.ms > b.ms ? 1 : a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0

export const equals = (a: StreamId, b: StreamId): boolean => a.ms === b.ms && a.seq === b.seq

/** The id right after `id`, or undefined past the maximum. */
export const next = (id: StreamId): StreamId | undefined =>
  id.seq < U64_MAX ? { ms: id.ms, seq: id.seq + 1n } : id.ms < U64_MAX ? { ms: id.ms + 1n, seq: 0n } : undefined

/** The id right before `id`, or undefined below 0-0. */
export const prev = (id: StreamId): StreamId | undefined =>
  id.seq > 0n ? { ms: id.ms, seq: id.seq - 1n } : id.ms > 0n ? { ms: id.ms - 1n, seq: U64_MAX } : undefined

/** A canonical `ms-seq` string for an id given as `ms` or `ms-seq` (undefined when malformed). */
export const normalize = (text: string): string | undefined => {
  const id = parse(text)
  return id === undefined ? undefined : format(id)
}

/** Inclusive lower bound of a range: `-`, `ms`, `ms-seq`, or exclusive `(ms-seq`. */
export const parseStart = (text: string): StreamId | undefined => {
  if (text === "-") return ZERO
  if (text === "+") return MAX
  if (text.startsWith("(")) {
    const id = parse(text.slice(1), 0n)
    return id === undefined ? undefined : next(id)
  }
  return parse(text, 0n)
}

/** Inclusive upper bound of a range: `+`, `ms`, `ms-seq`, or exclusive `(ms-seq`. */
export const parseEnd = (text: string): StreamId | undefined => {
  if (text === "+") return MAX
  if (text === "-") return ZERO
  if (text.startsWith("(")) {
    const id = parse(text.slice(1), U64_MAX)
    return id === undefined ? undefined : prev(id)
  }
  return parse(text, U64_MAX)
}

/** What XADD was asked to use as the new entry's id. */
export type AddId =
  | { readonly _tag: "Auto" }
  | { readonly _tag: "AutoSeq"; readonly ms: bigint }
  | { readonly _tag: "Explicit"; readonly id: StreamId }

/** `*`, `ms-*`, `ms-seq` or `ms` (= `ms-0`). */
export const parseAddId = (text: string): AddId | undefined => {
  if (text === "*") return { _tag: "Auto" }
  if (text.endsWith("-*")) {
    const ms = u64(text.slice(0, -2))
    return ms === undefined ? undefined : { _tag: "AutoSeq", ms }
  }
  const id = parse(text, 0n)
  return id === undefined ? undefined : { _tag: "Explicit", id }
}

/**
 * The id XADD gives a new entry after `last` (the stream's last generated id)
 * at time `nowMs`, or a reason it cannot (as Redis words it).
 */
export const nextAddId = (
  last: StreamId,
  requested: AddId,
  nowMs: bigint
): { readonly id: StreamId } | { readonly error: "zero" | "notGreater" | "overflow" } => {
  switch (requested._tag) {
    case "Auto": {
      if (nowMs > last.ms) return { id: { ms: nowMs, seq: 0n } }
      const id = next(last)
      return id === undefined ? { error: "overflow" } : { id }
    }
    case "AutoSeq": {
      if (requested.ms > last.ms) return { id: { ms: requested.ms, seq: 0n } }
      if (requested.ms < last.ms) return { error: "notGreater" }
      if (last.seq === U64_MAX) return { error: "overflow" }
      return { id: { ms: last.ms, seq: last.seq + 1n } }
    }
    case "Explicit": {
      if (equals(requested.id, ZERO)) return { error: "zero" }
      return compare(requested.id, last) > 0 ? { id: requested.id } : { error: "notGreater" }
    }
  }
}
