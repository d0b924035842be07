/**
 * The `stream` toolset (off by default; `--toolsets default,stream`): Redis
 * streams as an append-only event log (this file), with consumer groups for
 * at-least-once work distribution between agents (streamGroups.ts).
 */
import { Effect, Schema } from "effect"
import { Streams } from "../services/Streams.ts"
import { Encoding } from "../services/Values.ts"
import * as Feature from "./Feature.ts"
import { wellFormedNames } from "./schemas.ts"
import { streamGroupTools } from "./streamGroups.ts"
import { BlockMs, Count, Entries, Ids, Key, Truncated } from "./streamSchemas.ts"
import * as Tool from "./Tool.ts"

export const xadd = Tool.make({
  name: "xadd",
  title: "Append to a stream",
  description:
    "Append an entry (an object of field/value strings) to a stream, creating the stream if needed, and return its id. " +
    'Leave id out (or "*") so Redis assigns a growing "<ms>-<seq>" id; an explicit id must be greater than the last one. ' +
    "maxLen caps the stream's length by dropping the oldest entries (approximately by default, which is cheaper: at least " +
    'maxLen entries stay). Values are UTF-8 text, or base64 bytes with encoding:"base64". Entries over the value size ' +
    "limit (default 1 MiB) fail with TooLarge.",
  toolset: "stream",
  input: Schema.Struct({
    key: Key,
    fields: Schema.Record(Schema.String, Schema.String).check(wellFormedNames).annotate({
      description: 'The entry: at least one field, e.g. {"type": "order.created", "orderId": "42"}.'
    }),
    encoding: Schema.optionalKey(
      Encoding.annotate({ description: 'How the values are written: "utf8" (default) or "base64" for binary bytes.' })
    ),
    id: Schema.optionalKey(
      Schema.String.annotate({
        description: 'The new entry\'s id: "*" (default, auto), "<ms>-*" (auto sequence) or "<ms>-<seq>".'
      })
    ),
    maxLen: Schema.optionalKey(
      Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).annotate({
        description: "After adding, trim the stream to about this many newest entries."
      })
    ),
    approximate: Schema.optionalKey(
      Schema.Boolean.annotate({ description: "Trim to maxLen approximately (default true) or exactly (false)." })
    )
  }),
  output: Schema.Struct({ id: Schema.String.annotate({ description: "The new entry's id." }) }),
  hints: Tool.hints.destroy,
  touches: Tool.touches.key,
  handler: (input) => Effect.flatMap(Streams, (s) => s.xadd(input))
})

export const xrange = Tool.make({
  name: "xrange",
  title: "Read a range of a stream",
  description:
    "Read entries whose ids lie between start and end (inclusive), oldest first, or newest first with reverse:true. " +
    'start defaults to "-" (the first entry) and end to "+" (the last); "(<id>" excludes that id. A missing stream ' +
    "gives no entries. Results are capped (count, item and byte limits, checked before entries are sent): when " +
    "truncated is true, call again with cursor as start (or as end when reverse) to get the next page. An entry " +
    "alone over the output cap comes cut, with truncated:true on the entry.",
  toolset: "stream",
  input: Schema.Struct({
    key: Key,
    start: Schema.optionalKey(
      Schema.String.annotate({ description: 'Lower bound: "-", "<ms>-<seq>", "<ms>" or "(<ms>-<seq>" (exclusive).' })
    ),
    end: Schema.optionalKey(
      Schema.String.annotate({ description: 'Upper bound: "+", "<ms>-<seq>", "<ms>" or "(<ms>-<seq>" (exclusive).' })
    ),
    count: Count("Most entries to return"),
    reverse: Schema.optionalKey(Schema.Boolean.annotate({ description: "Newest first (XREVRANGE)." }))
  }),
  output: Schema.Struct({
    entries: Entries,
    truncated: Truncated,
    cursor: Schema.optionalKey(
      Schema.String.annotate({ description: "Only when truncated: pass as start (as end when reverse)." })
    )
  }),
  hints: Tool.hints.read,
  touches: Tool.touches.key,
  handler: (input) => Effect.flatMap(Streams, (s) => s.xrange(input))
})

export const xread = Tool.make({
  name: "xread",
  title: "Read new entries from streams",
  description:
    "Read entries added after a given id in one or more streams, optionally waiting up to blockMs for new ones. Use it " +
    'to follow a stream: start with id "$" (only entries added from now on) or "0" (from the beginning), then pass ' +
    "each stream's lastId back as its id. Every requested stream is in the result, with the entries read (count per " +
    "stream) and lastId. All streams of one call share the item and byte caps; a stream with truncated:true has more " +
    "entries waiting. Without consumer groups every reader sees every entry; to share work use xreadgroup.",
  toolset: "stream",
  input: Schema.Struct({
    streams: Schema.Array(
      Schema.Struct({
        key: Key,
        id: Schema.String.annotate({ description: 'Read entries after this id: "$", "0" or "<ms>-<seq>".' })
      })
    )
      .check(Schema.isMinLength(1), Schema.isMaxLength(100))
      .annotate({ description: "The streams to read, each once (at most 100)." }),
    count: Count("Most entries per stream"),
    blockMs: BlockMs
  }),
  output: Schema.Struct({
    streams: Schema.Array(
      Schema.Struct({
        key: Schema.String,
        entries: Entries,
        lastId: Schema.String.annotate({ description: "Pass this as the stream's id on the next call." }),
        truncated: Schema.Boolean.annotate({ description: "True when more entries are already waiting." })
      })
    )
  }),
  hints: Tool.hints.read,
  touches: ({ streams }) => ({ keys: streams.map((s) => s.key) }),
  handler: (input) => Effect.flatMap(Streams, (s) => s.xread(input))
})

export const xlen = Tool.make({
  name: "xlen",
  title: "Stream length",
  description: "Count the entries in a stream (0 when the stream does not exist).",
  toolset: "stream",
  input: Schema.Struct({ key: Key }),
  output: Schema.Struct({ length: Schema.Int }),
  hints: Tool.hints.read,
  touches: Tool.touches.key,
  handler: ({ key }) => Effect.flatMap(Streams, (s) => s.xlen(key))
})

export const xdel = Tool.make({
  name: "xdel",
  title: "Delete stream entries",
  description:
    "Delete entries by id and return how many existed. Pending entries of consumer groups that point at them stay " +
    "pending (xautoclaim reports them as deletedIds and drops them). To drop old entries in bulk, use xtrim.",
  toolset: "stream",
  input: Schema.Struct({ key: Key, ids: Ids }),
  output: Schema.Struct({ deleted: Schema.Int }),
  hints: Tool.hints.overwrite,
  touches: Tool.touches.key,
  handler: ({ key, ids }) => Effect.flatMap(Streams, (s) => s.xdel(key, ids))
})

export const xtrim = Tool.make({
  name: "xtrim",
  title: "Trim a stream",
  description:
    "Drop the oldest entries of a stream: give maxLen to keep only the newest N entries, or minId to drop entries " +
    "with smaller ids. Exact by default; approximate:true is cheaper and may keep a few more. Returns how many were deleted.",
  toolset: "stream",
  input: Schema.Struct({
    key: Key,
    maxLen: Schema.optionalKey(
      Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).annotate({ description: "Keep at most this many entries." })
    ),
    minId: Schema.optionalKey(
      Schema.String.annotate({ description: 'Drop entries with ids below this one ("<ms>-<seq>" or "<ms>").' })
    ),
    approximate: Schema.optionalKey(Schema.Boolean.annotate({ description: "Trim approximately (default false)." }))
  }),
  output: Schema.Struct({ deleted: Schema.Int }),
  hints: Tool.hints.overwrite,
  touches: Tool.touches.key,
  handler: (input) => Effect.flatMap(Streams, (s) => s.xtrim(input))
})

export const streamTools = [xadd, xrange, xread, xlen, xdel, xtrim, ...streamGroupTools]

export const streamFeature = Feature.make({ name: "stream", default: false, tools: streamTools })
