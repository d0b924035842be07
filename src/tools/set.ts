/**
 * The `set` toolset: Redis sets (unordered, unique members).
 */
import { Effect, Schema } from "effect"
import { Sets } from "../services/Sets.ts"
import { Cursor, InputEncoding, itemFields, Key, Limit, nonEmptyStrings, pageFields, TtlSeconds } from "./collection.ts"
import * as Feature from "./Feature.ts"
import * as Tool from "./Tool.ts"

export const sadd = Tool.make({
  name: "sadd",
  title: "Add set members",
  description:
    "Add members to the set at `key` (SADD), creating it if needed; members already there are ignored. " +
    "Use it for tags, seen-IDs and deduplication. Optional `ttlSeconds` sets the key's expiry atomically. " +
    "Returns how many members were new.",
  toolset: "set",
  input: Schema.Struct({
    key: Key,
    members: nonEmptyStrings("Members to add (at least one)."),
    encoding: InputEncoding,
    ttlSeconds: TtlSeconds
  }),
  output: Schema.Struct({ added: Schema.Int.annotate({ description: "Members that were not in the set before." }) }),
  hints: Tool.hints.idempotentWrite,
  touches: Tool.touches.key,
  handler: ({ key, members, encoding, ttlSeconds }) =>
    Effect.flatMap(Sets, (s) => s.sadd(key, members, { encoding, ttlSeconds }))
})

export const srem = Tool.make({
  name: "srem",
  title: "Remove set members",
  description:
    "Remove members from the set at `key` (SREM). Returns how many were in the set. Removing the last member " +
    "deletes the key. A missing key or member is not an error.",
  toolset: "set",
  input: Schema.Struct({
    key: Key,
    members: nonEmptyStrings("Members to remove (at least one)."),
    encoding: InputEncoding
  }),
  output: Schema.Struct({
    removed: Schema.Int.annotate({ description: "Members that were in the set and were removed." })
  }),
  hints: Tool.hints.overwrite,
  touches: Tool.touches.key,
  handler: ({ key, members, encoding }) => Effect.flatMap(Sets, (s) => s.srem(key, members, encoding))
})

export const smembers = Tool.make({
  name: "smembers",
  title: "List set members",
  description:
    "List the members of the set at `key`, page by page (SSCAN, so big sets never block Redis). Order is not defined. " +
    "When `truncated` is true, call again with the returned `cursor` until it is false. A missing key gives an empty list. " +
    "To test one member, use sismember instead.",
  toolset: "set",
  input: Schema.Struct({ key: Key, cursor: Cursor, limit: Limit }),
  output: Schema.Struct({ members: Schema.Array(Schema.Struct(itemFields)), ...pageFields }),
  hints: Tool.hints.read,
  touches: Tool.touches.key,
  handler: ({ key, cursor, limit }) =>
    Effect.flatMap(Sets, (s) =>
      s.smembers(key, { cursor, limit }).pipe(Effect.map(({ items, ...page }) => ({ members: items, ...page })))
    )
})

export const sismember = Tool.make({
  name: "sismember",
  title: "Test set membership",
  description: "Check whether `member` is in the set at `key` (SISMEMBER). A missing key answers false.",
  toolset: "set",
  input: Schema.Struct({
    key: Key,
    member: Schema.String.annotate({ description: "The member to look for." }),
    encoding: InputEncoding
  }),
  output: Schema.Struct({ isMember: Schema.Boolean }),
  hints: Tool.hints.read,
  touches: Tool.touches.key,
  handler: ({ key, member, encoding }) => Effect.flatMap(Sets, (s) => s.sismember(key, member, encoding))
})

export const setTools = [sadd, srem, smembers, sismember]

export const setFeature = Feature.make({ name: "set", default: false, tools: setTools })
