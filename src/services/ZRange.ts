/**
 * ZRANGE arguments (Redis 6.2+ syntax): by index, score or lex, with REV and
 * LIMIT. Bounds are checked here, before Redis sees them, and the memory layer
 * selects ranges with the same rules.
 */
import { Effect } from "effect"
import type { InvalidArgument } from "../Errors.ts"
import { invalid, resolveRange } from "./Collection.ts"
import { byBytes } from "./Paging.ts"
import { type Encoding, toBuffer } from "./Values.ts"

export type RangeBy = "index" | "score" | "lex"

/** A bound as a tool passes it: a number, or text such as "(1.5", "-inf", "[apple", "+". */
export type RawBound = number | string

export interface ZRangeQuery {
  readonly by: RangeBy
  readonly start: RawBound
  readonly stop: RawBound
  /** Highest first. For score and lex, `start` is then the upper bound (Redis REV). */
  readonly reverse?: boolean | undefined
  /** Skip this many matches (score and lex only). */
  readonly offset?: number | undefined
  /** Return at most this many matches in all (score and lex only). */
  readonly count?: number | undefined
  readonly withScores?: boolean | undefined
  /** How the text after "[" or "(" in lex bounds is encoded. */
  readonly encoding?: Encoding | undefined
  readonly cursor?: string | undefined
}

export interface ScoreBound {
  readonly value: number
  readonly exclusive: boolean
  /** As Redis takes it. */
  readonly arg: string
}

export type LexBound =
  | { readonly kind: "min"; readonly arg: "-" }
  | { readonly kind: "max"; readonly arg: "+" }
  | { readonly kind: "inclusive" | "exclusive"; readonly key: string; readonly arg: Buffer }

export type ParsedRange =
  | { readonly by: "index"; readonly start: number; readonly stop: number }
  | { readonly by: "score"; readonly start: ScoreBound; readonly stop: ScoreBound }
  | { readonly by: "lex"; readonly start: LexBound; readonly stop: LexBound }

const SCORE = /^(\(?)([+-]?inf(?:inity)?|[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)$/i

const formatScore = (n: number): string => (n === Infinity ? "+inf" : n === -Infinity ? "-inf" : String(n))

const parseIndex = (name: string, b: RawBound): Effect.Effect<number, InvalidArgument> => {
  const n = typeof b === "number" ? b : /^-?\d{1,16}$/.test(b.trim()) ? Number(b.trim()) : Number.NaN
  return Number.isSafeInteger(n)
    ? Effect.succeed(n)
    : Effect.fail(
        invalid(
          `${name} ${JSON.stringify(b)} is not an index. With by "index", give whole numbers (negative count from the end, -1 is the last).`
        )
      )
}

const parseScoreBound = (name: string, b: RawBound): Effect.Effect<ScoreBound, InvalidArgument> => {
  if (typeof b === "number") {
    return Number.isFinite(b)
      ? Effect.succeed({ value: b, exclusive: false, arg: formatScore(b) })
      : Effect.fail(invalid(`${name} must be a finite number or a string such as "-inf".`))
  }
  const m = SCORE.exec(b.trim())
  if (!m) {
    return Effect.fail(
      invalid(
        `${name} ${JSON.stringify(b)} is not a score bound. With by "score", give a number (inclusive), "(" before it for exclusive (e.g. "(1.5"), or "-inf" / "+inf".`
      )
    )
  }
  const text = m[2]!.toLowerCase()
  const value = text.includes("inf") ? (text.startsWith("-") ? -Infinity : Infinity) : Number(text)
  const exclusive = m[1] === "("
  return Effect.succeed({ value, exclusive, arg: (exclusive ? "(" : "") + formatScore(value) })
}

const parseLex = (
  name: string,
  b: RawBound,
  encoding: Encoding | undefined
): Effect.Effect<LexBound, InvalidArgument> => {
  if (b === "-") return Effect.succeed({ kind: "min", arg: "-" } as const)
  if (b === "+") return Effect.succeed({ kind: "max", arg: "+" } as const)
  if (typeof b === "string" && (b.startsWith("[") || b.startsWith("("))) {
    return Effect.map(toBuffer(b.slice(1), encoding), (bytes) => ({
      kind: b.startsWith("[") ? ("inclusive" as const) : ("exclusive" as const),
      key: bytes.toString("latin1"),
      arg: Buffer.concat([Buffer.from(b[0]!), bytes])
    }))
  }
  return Effect.fail(
    invalid(
      `${name} ${JSON.stringify(b)} is not a lex bound. With by "lex", give "[member" (inclusive), "(member" (exclusive), "-" (lowest) or "+" (highest).`
    )
  )
}

const natural = (name: string, n: number | undefined, min: number) =>
  n === undefined || (Number.isSafeInteger(n) && n >= min)
    ? Effect.void
    : Effect.fail(invalid(`${name} must be a whole number of at least ${min}, got ${n}.`))

/** Check a query and parse its bounds; every mistake is an InvalidArgument. */
export const parseRange = (q: ZRangeQuery): Effect.Effect<ParsedRange, InvalidArgument> =>
  Effect.gen(function* () {
    yield* natural("offset", q.offset, 0)
    yield* natural("count", q.count, 1)
    switch (q.by) {
      case "index": {
        if (q.offset !== undefined || q.count !== undefined) {
          return yield* invalid(
            'offset and count apply to by "score" and by "lex" only. With by "index", choose the range with start and stop.'
          )
        }
        return { by: "index", start: yield* parseIndex("start", q.start), stop: yield* parseIndex("stop", q.stop) }
      }
      case "score":
        return {
          by: "score",
          start: yield* parseScoreBound("start", q.start),
          stop: yield* parseScoreBound("stop", q.stop)
        }
      case "lex": {
        if (q.withScores === true) {
          return yield* invalid(
            'withScores is not available with by "lex" (Redis refuses it). Lex ranges are meant for members that share one score; leave withScores out.'
          )
        }
        return {
          by: "lex",
          start: yield* parseLex("start", q.start, q.encoding),
          stop: yield* parseLex("stop", q.stop, q.encoding)
        }
      }
      default:
        return yield* invalid(`by must be "index", "score" or "lex", got ${JSON.stringify(q.by)}.`)
    }
  })

const aboveMin = (v: number, b: ScoreBound) => (b.exclusive ? v > b.value : v >= b.value)
const belowMax = (v: number, b: ScoreBound) => (b.exclusive ? v < b.value : v <= b.value)

const lexAboveMin = (k: string, b: LexBound) => {
  if (b.kind === "min" || b.kind === "max") return b.kind === "min"
  return b.kind === "inclusive" ? k >= b.key : k > b.key
}
const lexBelowMax = (k: string, b: LexBound) => {
  if (b.kind === "min" || b.kind === "max") return b.kind === "max"
  return b.kind === "inclusive" ? k <= b.key : k < b.key
}

/**
 * The members a range selects from an in-memory sorted set (member keys are
 * latin1 byte strings), in output order, before paging; LIMIT applied.
 */
export const selectRange = (
  zset: ReadonlyMap<string, number>,
  range: ParsedRange,
  reverse: boolean,
  offset: number | undefined,
  count: number | undefined
): Array<readonly [string, number]> => {
  const asc = [...zset].sort((a, b) => (a[1] !== b[1] ? a[1] - b[1] : byBytes(a[0], b[0])))
  const ordered = reverse ? asc.reverse() : asc
  if (range.by === "index") {
    const [s, e] = resolveRange(ordered.length, range.start, range.stop)
    return ordered.slice(s, e + 1)
  }
  const [min, max] = reverse ? [range.stop, range.start] : [range.start, range.stop]
  const matches =
    range.by === "score"
      ? ordered.filter(([, v]) => aboveMin(v, min as ScoreBound) && belowMax(v, max as ScoreBound))
      : ordered.filter(([k]) => lexAboveMin(k, min as LexBound) && lexBelowMax(k, max as LexBound))
  const from = offset ?? 0
  return matches.slice(from, count === undefined ? undefined : from + count)
}

/** A score as JSON can carry it: infinities are the strings "inf" and "-inf". */
export type Score = number | "inf" | "-inf"

export const toScore = (n: number): Score => (n === Infinity ? "inf" : n === -Infinity ? "-inf" : n)

/** A score as Redis prints it ("1.5", "inf", "-inf"). */
export const parseScore = (text: string): Score => {
  const t = text.toLowerCase()
  return t === "inf" || t === "+inf" ? "inf" : t === "-inf" ? "-inf" : Number(t)
}
