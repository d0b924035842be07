/**
 * The `hash` toolset: Redis hashes (a key holding field → value pairs).
 */
import { Effect, Schema } from "effect"
import { Hashes } from "../services/Hashes.ts"
import { Encoding } from "../services/Values.ts"
import { Cursor, InputEncoding, itemFields, Key, Limit, nonEmptyStrings, pageFields, TtlSeconds } from "./collection.ts"
import * as Feature from "./Feature.ts"
import { partOutput, rangeInput } from "./parts.ts"
import { Text, wellFormedNames } from "./schemas.ts"
import * as Tool from "./Tool.ts"

const Field = Text.annotate({ description: "The field name (UTF-8 text)." })

export const hset = Tool.make({
  name: "hset",
  title: "Set hash fields",
  description:
    "Set one or more fields of the hash at `key` (HSET), creating the hash if needed; other fields are kept. " +
    'Pass `fields` as an object of field → value, e.g. {"name":"Ada","visits":"1"}. Values are strings ' +
    '(`encoding: "base64"` for binary). Optional `ttlSeconds` sets the key\'s expiry in the same atomic step. ' +
    "Returns how many fields were new. Fails with WrongType if the key holds another type.",
  toolset: "hash",
  input: Schema.Struct({
    key: Key,
    fields: Schema.Record(Schema.String, Schema.String)
      .check(Schema.isMinProperties(1), wellFormedNames)
      .annotate({ description: "Field → value pairs to set (at least one)." }),
    encoding: InputEncoding,
    ttlSeconds: TtlSeconds
  }),
  output: Schema.Struct({
    added: Schema.Int.annotate({ description: "Fields that did not exist before (updated fields are not counted)." })
  }),
  hints: Tool.hints.overwrite,
  touches: Tool.touches.key,
  handler: ({ key, fields, encoding, ttlSeconds }) =>
    Effect.flatMap(Hashes, (h) => h.hset(key, fields, { encoding, ttlSeconds }))
})

export const hget = Tool.make({
  name: "hget",
  title: "Get a hash field",
  description:
    "Read one field of the hash at `key` (HGET). A missing key or field is not an error: it returns " +
    "{found: false, value: null}. A value too big for one result comes back as its first part with truncated: true, " +
    "its total length in bytes and the offset to pass back to read the next part (offset/length read a byte range, " +
    "as get does for strings).",
  toolset: "hash",
  input: Schema.Struct({ key: Key, field: Field, ...rangeInput }),
  output: Schema.Struct(partOutput),
  hints: Tool.hints.read,
  touches: Tool.touches.key,
  handler: ({ key, field, ...range }) => Effect.flatMap(Hashes, (h) => h.hget(key, field, range))
})

export const hgetall = Tool.make({
  name: "hgetall",
  title: "Read a whole hash",
  description:
    "Read the fields and values of the hash at `key`, page by page (HSCAN, so big hashes never block Redis). " +
    "Each page holds at most `limit` fields and stays under the output cap (sizes are checked before values are " +
    "sent); when `truncated` is true, call again with the returned `cursor` until it is false. A value too big for " +
    "any page comes alone, cut, with truncated, length and offset on the field: read the rest with hget (offset). " +
    "Field order is not defined. A missing key gives an empty list.",
  toolset: "hash",
  input: Schema.Struct({ key: Key, cursor: Cursor, limit: Limit }),
  output: Schema.Struct({
    fields: Schema.Array(
      Schema.Struct({
        field: Schema.String,
        fieldEncoding: Encoding.annotate({ description: '"base64" when the field name is not valid UTF-8.' }),
        ...itemFields,
        offset: Schema.optionalKey(
          Schema.Int.annotate({ description: "Only on a cut value: pass to hget as offset to read the rest." })
        )
      })
    ),
    ...pageFields
  }),
  hints: Tool.hints.read,
  touches: Tool.touches.key,
  handler: ({ key, cursor, limit }) =>
    Effect.flatMap(Hashes, (h) =>
      h.hgetall(key, { cursor, limit }).pipe(Effect.map(({ items, ...page }) => ({ fields: items, ...page })))
    )
})

export const hdel = Tool.make({
  name: "hdel",
  title: "Delete hash fields",
  description:
    "Remove fields from the hash at `key` (HDEL). Returns how many of them existed. Removing the last field " +
    "deletes the key, as in Redis. A missing key or field is not an error.",
  toolset: "hash",
  input: Schema.Struct({ key: Key, fields: nonEmptyStrings("Field names to remove (at least one).") }),
  output: Schema.Struct({ deleted: Schema.Int.annotate({ description: "Fields that existed and were removed." }) }),
  hints: Tool.hints.overwrite,
  touches: Tool.touches.key,
  handler: ({ key, fields }) => Effect.flatMap(Hashes, (h) => h.hdel(key, fields))
})

export const hincrby = Tool.make({
  name: "hincrby",
  title: "Increment a hash field",
  description:
    "Add `increment` (a whole number, negative to subtract) to an integer field of the hash at `key` (HINCRBY), " +
    "atomically; a missing field or key starts at 0. Returns the new value. Use it for counters shared between agents. " +
    "Fails with InvalidArgument if the field holds something that is not an integer or the result would overflow 64 bits.",
  toolset: "hash",
  input: Schema.Struct({
    key: Key,
    field: Field,
    increment: Schema.Int.annotate({ description: "How much to add (negative subtracts)." })
  }),
  output: Schema.Struct({ value: Schema.Finite.annotate({ description: "The field's value after the increment." }) }),
  hints: Tool.hints.write,
  touches: Tool.touches.key,
  handler: ({ key, field, increment }) => Effect.flatMap(Hashes, (h) => h.hincrby(key, field, increment))
})

export const hashTools = [hset, hget, hgetall, hdel, hincrby]

export const hashFeature = Feature.make({ name: "hash", default: false, tools: hashTools })
