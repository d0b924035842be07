/** Schemas the `stream` toolset's tools share (stream.ts, streamGroups.ts). */
import { Schema } from "effect"
import { KEY_RULES, KeyName, Text } from "./schemas.ts"

export const Key = KeyName.annotate({ description: `The stream's key. ${KEY_RULES}` })
export const Group = Text.check(Schema.isMinLength(1)).annotate({ description: "Consumer group name." })
export const Consumer = Text.check(Schema.isMinLength(1)).annotate({
  description: "Consumer name: a stable name per worker (e.g. the agent's id). Created on first use."
})
export const EntryId = Schema.String.annotate({ description: 'An entry id, "<ms>-<seq>" (e.g. "1700000000000-0").' })
export const Ids = Schema.Array(EntryId)
  .check(Schema.isMinLength(1))
  .annotate({ description: "Entry ids, at least one and at most the server's item limit (default 1000)." })
export const Count = (what: string) =>
  Schema.optionalKey(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({
      description: `${what} (default 100, at most the server's item limit, default 1000).`
    })
  )
export const BlockMs = Schema.optionalKey(
  Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).annotate({
    description:
      "Wait up to this many ms for new entries when there are none yet (default 0: answer at once). Capped by the server " +
      "(10000 ms by default, and always below the Redis command timeout), so a call never hangs."
  })
)
export const MinIdleMs = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

export const Entry = Schema.Struct({
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
export const Entries = Schema.Array(Entry)
export const Truncated = Schema.Boolean.annotate({
  description: "True when more entries follow; continue from cursor."
})
