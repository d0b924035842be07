/**
 * The `zset` toolset: Redis sorted sets (unique members ordered by a numeric score).
 */
import { Effect, Schema } from "effect"
import { SortedSets } from "../services/SortedSets.ts"
import { Cursor, InputEncoding, itemFields, Key, nonEmptyStrings, pageFields, TtlSeconds } from "./collection.ts"
import * as Feature from "./Feature.ts"
import * as Tool from "./Tool.ts"

const Member = Schema.String.annotate({ description: "The member." })
const Score = Schema.Union([Schema.Finite, Schema.Literals(["inf", "-inf"])]).annotate({
  description: 'The score (the strings "inf" and "-inf" stand for infinite scores).'
})
const Bound = Schema.Union([Schema.Finite, Schema.String])

export const zadd = Tool.make({
  name: "zadd",
  title: "Add sorted-set members",
  description:
    "Add members with scores to the sorted set at `key`, or update their scores (ZADD), creating it if needed. " +
    'Use it for leaderboards, priorities and time-ordered indexes (score = epoch ms). `condition: "ifAbsent"` only adds new members (NX), ' +
    '`"ifPresent"` only updates existing ones (XX); `compare: "gt"`/`"lt"` updates a member only if the new score is greater/less ' +
    "(GT/LT; new members are still added). Optional `ttlSeconds` sets the key's expiry atomically. Returns counts of added and re-scored members.",
  toolset: "zset",
  input: Schema.Struct({
    key: Key,
    members: Schema.Array(
      Schema.Struct({
        member: Member,
        score: Schema.Finite.annotate({ description: "The member's score." })
      })
    )
      .check(Schema.isMinLength(1))
      .annotate({ description: 'Members and scores to add (at least one), e.g. [{"member":"ada","score":42}].' }),
    condition: Schema.optionalKey(
      Schema.Literals(["ifAbsent", "ifPresent"]).annotate({
        description: "ifAbsent: add new members only, never update (NX). ifPresent: update existing members only (XX)."
      })
    ),
    compare: Schema.optionalKey(
      Schema.Literals(["gt", "lt"]).annotate({
        description:
          "Update an existing member only when the new score is greater (gt) or less (lt). Not with ifAbsent."
      })
    ),
    encoding: InputEncoding,
    ttlSeconds: TtlSeconds
  }),
  output: Schema.Struct({
    added: Schema.Int.annotate({ description: "Members that were new." }),
    updated: Schema.Int.annotate({ description: "Existing members whose score changed." })
  }),
  hints: Tool.hints.overwrite,
  touches: Tool.touches.key,
  handler: ({ key, members, condition, compare, encoding, ttlSeconds }) =>
    Effect.flatMap(SortedSets, (z) => z.zadd(key, members, { condition, compare, encoding, ttlSeconds }))
})

export const zrange = Tool.make({
  name: "zrange",
  title: "Read a range of a sorted set",
  description:
    "Read members of the sorted set at `key` in score order (ZRANGE, Redis 6.2 syntax). " +
    'by "index": start/stop are ranks (0 first, -1 last), e.g. start 0, stop 9 for the lowest ten. ' +
    'by "score": start/stop are scores, inclusive, or exclusive with "(" (e.g. "(1.5"), or "-inf"/"+inf". ' +
    'by "lex" (members sharing one score): "[a" inclusive, "(a" exclusive, "-" and "+" for the ends. ' +
    "`reverse: true` returns highest first; with score or lex, start is then the HIGHER bound (as Redis REV). " +
    "`offset`/`count` (score and lex only) skip and limit matches. `withScores` adds each score (not with lex). " +
    "Pages stay under the output cap: when `truncated` is true, call again with the same arguments plus `cursor`.",
  toolset: "zset",
  input: Schema.Struct({
    key: Key,
    by: Schema.Literals(["index", "score", "lex"]).annotate({ description: "What start and stop mean." }),
    start: Bound.annotate({
      description:
        'Lower end (upper end with reverse): a rank, a score like 1.5, "(1.5" or "-inf", or a lex bound like "[a" or "-".'
    }),
    stop: Bound.annotate({
      description:
        'Upper end (lower end with reverse): a rank like -1, a score, "+inf", or a lex bound like "(b" or "+".'
    }),
    reverse: Schema.optionalKey(Schema.Boolean.annotate({ description: "Highest first (REV)." })),
    offset: Schema.optionalKey(
      Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).annotate({
        description: "Skip this many matches first (LIMIT offset; score and lex only)."
      })
    ),
    count: Schema.optionalKey(
      Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({
        description: "Return at most this many matches in all (LIMIT count; score and lex only)."
      })
    ),
    withScores: Schema.optionalKey(Schema.Boolean.annotate({ description: "Include each member's score." })),
    encoding: Schema.optionalKey(
      InputEncoding.schema.annotate({
        description: 'How the member text in lex bounds (after "[" or "(") is written: "utf8" (default) or "base64".'
      })
    ),
    cursor: Cursor
  }),
  output: Schema.Struct({
    members: Schema.Array(Schema.Struct({ ...itemFields, score: Schema.optionalKey(Score) })),
    ...pageFields
  }),
  hints: Tool.hints.read,
  touches: Tool.touches.key,
  handler: ({ key, ...query }) =>
    Effect.flatMap(SortedSets, (z) =>
      z.zrange(key, query).pipe(Effect.map(({ items, ...page }) => ({ members: items, ...page })))
    )
})

export const zrem = Tool.make({
  name: "zrem",
  title: "Remove sorted-set members",
  description:
    "Remove members from the sorted set at `key` (ZREM). Returns how many were there. Removing the last member deletes the key.",
  toolset: "zset",
  input: Schema.Struct({
    key: Key,
    members: nonEmptyStrings("Members to remove (at least one)."),
    encoding: InputEncoding
  }),
  output: Schema.Struct({ removed: Schema.Int.annotate({ description: "Members that were there and were removed." }) }),
  hints: Tool.hints.overwrite,
  touches: Tool.touches.key,
  handler: ({ key, members, encoding }) => Effect.flatMap(SortedSets, (z) => z.zrem(key, members, encoding))
})

export const zscore = Tool.make({
  name: "zscore",
  title: "Score of a sorted-set member",
  description:
    "Read the score of `member` in the sorted set at `key` (ZSCORE). A missing key or member is not an error: {found: false, score: null}.",
  toolset: "zset",
  input: Schema.Struct({ key: Key, member: Member, encoding: InputEncoding }),
  output: Schema.Struct({ found: Schema.Boolean, score: Schema.NullOr(Score) }),
  hints: Tool.hints.read,
  touches: Tool.touches.key,
  handler: ({ key, member, encoding }) => Effect.flatMap(SortedSets, (z) => z.zscore(key, member, encoding))
})

export const zincrby = Tool.make({
  name: "zincrby",
  title: "Increment a sorted-set score",
  description:
    "Add `increment` (negative to subtract) to the score of `member` in the sorted set at `key` (ZINCRBY), atomically; " +
    "a missing member or key starts at 0. Returns the new score.",
  toolset: "zset",
  input: Schema.Struct({
    key: Key,
    member: Member,
    increment: Schema.Finite.annotate({ description: "How much to add (may be fractional or negative)." }),
    encoding: InputEncoding
  }),
  output: Schema.Struct({ score: Score }),
  hints: Tool.hints.write,
  touches: Tool.touches.key,
  handler: ({ key, member, increment, encoding }) =>
    Effect.flatMap(SortedSets, (z) => z.zincrby(key, member, increment, encoding))
})

export const zsetTools = [zadd, zrange, zrem, zscore, zincrby]

export const zsetFeature = Feature.make({ name: "zset", default: false, tools: zsetTools })
