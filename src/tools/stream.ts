/**
 * The `stream` toolset (off by default; `--toolsets default,stream`): Redis
 * streams as an append-only event log, with consumer groups for at-least-once
 * work distribution between agents.
 */
import { Effect, Schema } from "effect"
import { Streams } from "../services/Streams.ts"
import { Encoding } from "../services/Values.ts"
import * as Feature from "./Feature.ts"
import { KEY_RULES, KeyName, Text, wellFormedNames } from "./schemas.ts"
import * as Tool from "./Tool.ts"

const Key = KeyName.annotate({ description: `The stream's key. ${KEY_RULES}` })
const Group = Text.check(Schema.isMinLength(1)).annotate({ description: "Consumer group name." })
const Consumer = Text.check(Schema.isMinLength(1)).annotate({
  description: "Consumer name: a stable name per worker (e.g. the agent's id). Created on first use."
})
const EntryId = Schema.String.annotate({ description: 'An entry id, "<ms>-<seq>" (e.g. "1700000000000-0").' })
const Ids = Schema.Array(EntryId)
  .check(Schema.isMinLength(1))
  .annotate({ description: "Entry ids, at least one and at most the server's item limit (default 1000)." })
const Count = (what: string) =>
  Schema.optionalKey(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({
      description: `${what} (default 100, at most the server's item limit, default 1000).`
    })
  )
const BlockMs = Schema.optionalKey(
  Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).annotate({
    description:
      "Wait up to this many ms for new entries when there are none yet (default 0: answer at once). Capped by the server " +
      "(10000 ms by default, and always below the Redis command timeout), so a call never hangs."
  })
)
const MinIdleMs = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

const Entry = Schema.Struct({
  id: Schema.String,
  fields: Schema.Record(Schema.String, Schema.String).annotate({ description: "The entry's fields and values." }),
  base64Fields: Schema.optionalKey(
    Schema.Array(Schema.String).annotate({
      description: "Fields whose values are not valid UTF-8 and are given base64 (decode before use)."
    })
  ),
  deleted: Schema.optionalKey(
    Schema.Boolean.annotate({
      description:
        "Only when re-reading pending entries: the entry was deleted after delivery (fields is empty). Ack it."
    })
  ),
  truncated: Schema.optionalKey(
    Schema.Boolean.annotate({
      description:
        "The entry alone is over the output cap: its fields come in order while they fit, the next one with its value cut, the rest left out."
    })
  )
})
const Entries = Schema.Array(Entry)
const Truncated = Schema.Boolean.annotate({ description: "True when more entries follow; continue from cursor." })

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

export const xgroupCreate = Tool.make({
  name: "xgroup_create",
  title: "Create a consumer group",
  description:
    "Create a consumer group on a stream so several consumers can share its entries (each entry goes to one consumer " +
    "and stays pending until acked). startId says where the group begins: " +
    '"$" (default, only entries added from now on) or "0" (every entry already in the stream). mkstream (default true) ' +
    "creates an empty stream when the key does not exist. Safe to call again: an existing group gives created:false.",
  toolset: "stream",
  input: Schema.Struct({
    key: Key,
    group: Group,
    startId: Schema.optionalKey(
      Schema.String.annotate({ description: 'Deliver entries after this id: "$" (default), "0" or "<ms>-<seq>".' })
    ),
    mkstream: Schema.optionalKey(
      Schema.Boolean.annotate({ description: "Create the stream if missing (default true)." })
    )
  }),
  output: Schema.Struct({
    created: Schema.Boolean.annotate({ description: "False when the group already existed (nothing changed)." })
  }),
  hints: Tool.hints.idempotentWrite,
  touches: Tool.touches.key,
  handler: (input) => Effect.flatMap(Streams, (s) => s.xgroupCreate(input))
})

export const xreadgroup = Tool.make({
  name: "xreadgroup",
  title: "Take entries as a group consumer",
  description:
    'Read entries as one consumer of a group. With id ">" (default) you get entries no consumer of the group has had ' +
    'yet; they become pending on you until you xack them. Wait up to blockMs when none are ready. With id "0" (or an ' +
    "id) you re-read your own pending entries after that id instead, e.g. after a restart. Process each entry, then xack " +
    "it; entries you never ack can be taken over by another consumer with xautoclaim. Only the entries that fit the " +
    "result are delivered (nothing becomes pending that you were not shown); truncated:true means more are waiting. " +
    "Fails with NotFound when the group does not exist (create it with xgroup_create).",
  toolset: "stream",
  input: Schema.Struct({
    key: Key,
    group: Group,
    consumer: Consumer,
    id: Schema.optionalKey(
      Schema.String.annotate({
        description: '">" (default: new entries) or "0" / "<ms>-<seq>" (your pending entries).'
      })
    ),
    count: Count("Most entries to take"),
    blockMs: BlockMs,
    noAck: Schema.optionalKey(
      Schema.Boolean.annotate({ description: "Do not track the entries as pending (at-most-once). Default false." })
    )
  }),
  output: Schema.Struct({
    entries: Entries,
    truncated: Schema.Boolean.annotate({
      description:
        'True when more entries are waiting: call again (with id ">" for new entries; with id set to cursor when re-reading your pending entries).'
    }),
    cursor: Schema.optionalKey(
      Schema.String.annotate({ description: "Only when re-reading pending entries and truncated: pass as id." })
    )
  }),
  hints: Tool.hints.write,
  touches: Tool.touches.key,
  handler: (input) => Effect.flatMap(Streams, (s) => s.xreadgroup(input))
})

export const xack = Tool.make({
  name: "xack",
  title: "Acknowledge entries",
  description:
    "Mark entries as processed by the group: they leave its pending list. Returns how many were pending (ids already " +
    "acked, unknown ids, or a missing group count 0, so acking twice is harmless).",
  toolset: "stream",
  input: Schema.Struct({ key: Key, group: Group, ids: Ids }),
  output: Schema.Struct({ acked: Schema.Int }),
  hints: Tool.hints.idempotentWrite,
  touches: Tool.touches.key,
  handler: ({ key, group, ids }) => Effect.flatMap(Streams, (s) => s.xack(key, group, ids))
})

export const xpending = Tool.make({
  name: "xpending",
  title: "Inspect pending entries",
  description:
    "Show a group's pending entries (delivered but not acked): the total, the smallest and largest id, the count per " +
    "consumer, and a page of entries with their consumer, idle time in ms and delivery count. Filter the page by " +
    "consumer, minIdleMs and an id range. Use it to find stuck work (high idleMs) and poison entries (many deliveries).",
  toolset: "stream",
  input: Schema.Struct({
    key: Key,
    group: Group,
    consumer: Schema.optionalKey(Consumer.annotate({ description: "Only this consumer's entries." })),
    minIdleMs: Schema.optionalKey(MinIdleMs.annotate({ description: "Only entries idle at least this long." })),
    start: Schema.optionalKey(Schema.String.annotate({ description: 'Lowest id (default "-"); "(<id>" excludes it.' })),
    end: Schema.optionalKey(Schema.String.annotate({ description: 'Highest id (default "+").' })),
    count: Count("Most entries in the page")
  }),
  output: Schema.Struct({
    pending: Schema.Int.annotate({ description: "Entries pending in the whole group." }),
    minId: Schema.NullOr(Schema.String),
    maxId: Schema.NullOr(Schema.String),
    consumers: Schema.Array(Schema.Struct({ consumer: Schema.String, pending: Schema.Int })),
    entries: Schema.Array(
      Schema.Struct({
        id: Schema.String,
        consumer: Schema.String,
        idleMs: Schema.Int.annotate({ description: "Ms since the entry was last delivered." }),
        deliveries: Schema.Int.annotate({ description: "How often it was delivered." })
      })
    ),
    truncated: Schema.Boolean.annotate({ description: "True when more entries match; pass cursor as start." }),
    cursor: Schema.optionalKey(Schema.String)
  }),
  hints: Tool.hints.read,
  touches: Tool.touches.key,
  handler: (input) => Effect.flatMap(Streams, (s) => s.xpending(input))
})

export const xautoclaim = Tool.make({
  name: "xautoclaim",
  title: "Take over stuck entries",
  description:
    "Take over pending entries that have been idle at least minIdleMs (their consumer crashed or stalled) and return " +
    'them, now pending on consumer: process them, then xack. Scans the pending list from start (default "0-0"); call ' +
    'again with cursor as start until done is true (cursor "0-0"). Only entries that fit the result are claimed. ' +
    "deletedIds were deleted from the stream; they are dropped from the pending list and need no ack.",
  toolset: "stream",
  input: Schema.Struct({
    key: Key,
    group: Group,
    consumer: Consumer.annotate({ description: "The consumer that takes the entries over." }),
    minIdleMs: MinIdleMs.annotate({ description: "Only entries idle at least this many ms." }),
    start: Schema.optionalKey(Schema.String.annotate({ description: 'Where to scan from (default "0-0").' })),
    count: Count("Most entries to take")
  }),
  output: Schema.Struct({
    entries: Entries,
    deletedIds: Schema.Array(Schema.String),
    cursor: Schema.String.annotate({ description: 'Pass as start to continue; "0-0" when the scan is complete.' }),
    done: Schema.Boolean.annotate({ description: "True when the whole pending list was scanned." }),
    truncated: Schema.Boolean.annotate({
      description:
        "True when the first entry alone was over the output cap and comes cut (see its truncated). Entries are only claimed when they fit the result."
    })
  }),
  hints: Tool.hints.write,
  touches: Tool.touches.key,
  handler: (input) => Effect.flatMap(Streams, (s) => s.xautoclaim(input))
})

const EntryOrNull = Schema.NullOr(Entry)

export const xinfo = Tool.make({
  name: "xinfo",
  title: "Describe a stream",
  description:
    "Describe a stream: length, last generated id, entries ever added, first and last entry, and its consumer groups " +
    "(consumers, pending count, last delivered id). Give group to also list that group's consumers with their pending " +
    "count and idle time. A missing stream gives found:false.",
  toolset: "stream",
  input: Schema.Struct({
    key: Key,
    group: Schema.optionalKey(Group.annotate({ description: "Also list this group's consumers." }))
  }),
  output: Schema.Struct({
    found: Schema.Boolean,
    stream: Schema.optionalKey(
      Schema.Struct({
        length: Schema.Int,
        lastGeneratedId: Schema.String,
        entriesAdded: Schema.Int,
        groups: Schema.Int,
        firstEntry: EntryOrNull,
        lastEntry: EntryOrNull
      })
    ),
    groups: Schema.optionalKey(
      Schema.Array(
        Schema.Struct({
          name: Schema.String,
          consumers: Schema.Int,
          pending: Schema.Int,
          lastDeliveredId: Schema.String
        })
      )
    ),
    consumers: Schema.optionalKey(
      Schema.Array(
        Schema.Struct({
          name: Schema.String,
          pending: Schema.Int,
          idleMs: Schema.Int.annotate({ description: "Ms since the consumer last read or claimed." })
        })
      )
    )
  }),
  hints: Tool.hints.read,
  touches: Tool.touches.key,
  handler: (input) => Effect.flatMap(Streams, (s) => s.xinfo(input))
})

export const streamTools = [
  xadd,
  xrange,
  xread,
  xlen,
  xdel,
  xtrim,
  xgroupCreate,
  xreadgroup,
  xack,
  xpending,
  xautoclaim,
  xinfo
]

export const streamFeature = Feature.make({ name: "stream", default: false, tools: streamTools })
