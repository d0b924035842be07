/**
 * Each command's input, checked and put in canonical form (ids parsed, counts
 * capped, values encoded) before either Streams layer acts on it: a bad
 * argument is an InvalidArgument before Redis is touched.
 */

import { Effect } from "effect"
import { quote } from "../../Errors.ts"
import {
  checkBlock,
  checkCount,
  checkId,
  EXACT_FORMS,
  encodeFields,
  endBound,
  invalid,
  nonEmpty,
  type StreamLimits,
  startBound,
  wholeNumber
} from "./StreamArgs.ts"
import * as Ids from "./StreamIds.ts"
import type {
  StreamEntry,
  XAddInput,
  XAutoClaimInput,
  XGroupCreateInput,
  XPendingInput,
  XRangeInput,
  XReadGroupInput,
  XReadInput,
  XTrimInput
} from "./StreamTypes.ts"

const fail = (message: string) => Effect.fail(invalid(message))

export interface AddPlan {
  readonly key: string
  readonly pairs: ReadonlyArray<readonly [Buffer, Buffer]>
  readonly id: Ids.AddId
  readonly idText: string
  readonly maxLen: number | undefined
  readonly approximate: boolean
}

export const planAdd = (input: XAddInput, limits: StreamLimits) =>
  Effect.gen(function* () {
    const idText = input.id ?? "*"
    const id = yield* checkId(
      idText,
      Ids.parseAddId,
      "id",
      '"*" (let Redis pick, the usual choice), "<ms>-*", or "<ms>-<seq>" greater than the last id'
    )
    const maxLen = input.maxLen === undefined ? undefined : yield* wholeNumber(input.maxLen, "maxLen", 0)
    const pairs = yield* encodeFields(input.fields, input.encoding, limits)
    return { key: input.key, pairs, id, idText, maxLen, approximate: input.approximate ?? true } satisfies AddPlan
  })

export interface RangePlan {
  readonly key: string
  readonly start: Ids.StreamId
  readonly end: Ids.StreamId
  readonly count: number
  readonly reverse: boolean
}

export const planRange = (input: XRangeInput, limits: StreamLimits) =>
  Effect.gen(function* () {
    const reverse = input.reverse ?? false
    const start = yield* startBound(input.start ?? "-")
    const end = yield* endBound(input.end ?? "+")
    const count = yield* checkCount(input.count, limits)
    return { key: input.key, start, end, count, reverse } satisfies RangePlan
  })

/** The continuation of a capped range: the bound to pass back, exclusive of the last entry returned. */
export const rangeCursor = (entries: ReadonlyArray<StreamEntry>): string => `(${entries[entries.length - 1]!.id}`

const READ_ID_FORMS =
  '"$" (only entries added from now on), "0" (from the beginning), or "<ms>-<seq>" to read after an id'

export interface ReadPlan {
  readonly streams: ReadonlyArray<{ readonly key: string; readonly after: Ids.StreamId | "$" }>
  readonly count: number
  readonly blockMs: number
}

export const planRead = (input: XReadInput, limits: StreamLimits) =>
  Effect.gen(function* () {
    if (input.streams.length === 0) return yield* fail("streams must name at least one {key, id}.")
    if (input.streams.length > 100) return yield* fail("streams names more than 100 streams; read fewer per call.")
    const keys = new Set<string>()
    const streams: Array<ReadPlan["streams"][number]> = []
    for (const s of input.streams) {
      if (keys.has(s.key)) return yield* fail(`streams names ${quote(s.key)} twice; name each stream once.`)
      keys.add(s.key)
      const after =
        s.id === "$"
          ? ("$" as const)
          : yield* checkId(s.id, (t) => Ids.parse(t), `id for ${quote(s.key)}`, READ_ID_FORMS)
      streams.push({ key: s.key, after })
    }
    const count = yield* checkCount(input.count, limits)
    const blockMs = yield* checkBlock(input.blockMs, limits)
    return { streams, count, blockMs } satisfies ReadPlan
  })

export interface TrimPlan {
  readonly key: string
  readonly strategy:
    | { readonly _tag: "MaxLen"; readonly maxLen: number }
    | { readonly _tag: "MinId"; readonly minId: Ids.StreamId }
  readonly approximate: boolean
}

export const planTrim = (input: XTrimInput) =>
  Effect.gen(function* () {
    if ((input.maxLen === undefined) === (input.minId === undefined)) {
      return yield* fail(
        "Give exactly one of maxLen (keep the newest N entries) or minId (drop entries older than an id)."
      )
    }
    const approximate = input.approximate ?? false
    if (input.maxLen !== undefined) {
      const maxLen = yield* wholeNumber(input.maxLen, "maxLen", 0)
      return { key: input.key, strategy: { _tag: "MaxLen", maxLen }, approximate } satisfies TrimPlan
    }
    const minId = yield* checkId(input.minId!, (t) => Ids.parse(t), "minId", EXACT_FORMS)
    return { key: input.key, strategy: { _tag: "MinId", minId }, approximate } satisfies TrimPlan
  })

export interface GroupCreatePlan {
  readonly key: string
  readonly group: string
  readonly start: Ids.StreamId | "$"
  readonly mkstream: boolean
}

export const planGroupCreate = (input: XGroupCreateInput) =>
  Effect.gen(function* () {
    const group = yield* nonEmpty(input.group, "group")
    const text = input.startId ?? "$"
    const start =
      text === "$"
        ? ("$" as const)
        : yield* checkId(
            text,
            (t) => Ids.parse(t),
            "startId",
            '"$" (only new entries), "0" (every entry) or "<ms>-<seq>"'
          )
    return { key: input.key, group, start, mkstream: input.mkstream ?? true } satisfies GroupCreatePlan
  })

export interface ReadGroupPlan {
  readonly key: string
  readonly group: string
  readonly consumer: string
  /** `>`: new entries; otherwise the consumer's pending entries after this id. */
  readonly after: Ids.StreamId | ">"
  readonly count: number
  readonly blockMs: number
  readonly noAck: boolean
}

export const planReadGroup = (input: XReadGroupInput, limits: StreamLimits) =>
  Effect.gen(function* () {
    const group = yield* nonEmpty(input.group, "group")
    const consumer = yield* nonEmpty(input.consumer, "consumer")
    const text = input.id ?? ">"
    const after =
      text === ">"
        ? (">" as const)
        : yield* checkId(
            text,
            (t) => Ids.parse(t),
            "id",
            '">" (new entries, the usual choice) or "0" / "<ms>-<seq>" to re-read your own pending entries after that id'
          )
    const count = yield* checkCount(input.count, limits)
    const blockMs = yield* checkBlock(input.blockMs, limits)
    return {
      key: input.key,
      group,
      consumer,
      after,
      count,
      blockMs,
      noAck: input.noAck ?? false
    } satisfies ReadGroupPlan
  })

export interface PendingPlan {
  readonly key: string
  readonly group: string
  readonly consumer: string | undefined
  readonly minIdleMs: number
  readonly start: Ids.StreamId
  readonly end: Ids.StreamId
  readonly count: number
}

export const planPending = (input: XPendingInput, limits: StreamLimits) =>
  Effect.gen(function* () {
    const group = yield* nonEmpty(input.group, "group")
    const consumer = input.consumer === undefined ? undefined : yield* nonEmpty(input.consumer, "consumer")
    const minIdleMs = yield* wholeNumber(input.minIdleMs ?? 0, "minIdleMs", 0)
    const start = yield* startBound(input.start ?? "-")
    const end = yield* endBound(input.end ?? "+")
    const count = yield* checkCount(input.count, limits)
    return { key: input.key, group, consumer, minIdleMs, start, end, count } satisfies PendingPlan
  })

export interface AutoClaimPlan {
  readonly key: string
  readonly group: string
  readonly consumer: string
  readonly minIdleMs: number
  readonly start: Ids.StreamId
  readonly count: number
}

export const planAutoClaim = (input: XAutoClaimInput, limits: StreamLimits) =>
  Effect.gen(function* () {
    const group = yield* nonEmpty(input.group, "group")
    const consumer = yield* nonEmpty(input.consumer, "consumer")
    const minIdleMs = yield* wholeNumber(input.minIdleMs, "minIdleMs", 0)
    const start = yield* startBound(input.start ?? "0-0")
    const count = yield* checkCount(input.count, limits)
    return { key: input.key, group, consumer, minIdleMs, start, count } satisfies AutoClaimPlan
  })
