/**
 * The `stream` toolset's consumer-group tools: groups, at-least-once delivery to
 * named consumers, acknowledgements, pending entries and reclaiming them.
 */
import { Effect, Schema } from "effect"
import { Streams } from "../services/Streams.ts"
import { BlockMs, Consumer, Count, Entries, Entry, Group, Ids, Key, MinIdleMs } from "./streamSchemas.ts"
import * as Tool from "./Tool.ts"

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

export const streamGroupTools = [xgroupCreate, xreadgroup, xack, xpending, xautoclaim, xinfo]
