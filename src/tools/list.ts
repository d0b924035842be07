/**
 * The `list` toolset: Redis lists (ordered values, pushed and popped at either end).
 */
import { Effect, Schema } from "effect"
import { type End, Lists } from "../services/Lists.ts"
import { Cursor, InputEncoding, itemFields, Key, nonEmptyStrings, pageFields, TtlSeconds } from "./collection.ts"
import * as Feature from "./Feature.ts"
import * as Tool from "./Tool.ts"

const Item = Schema.Struct(itemFields)
const Length = Schema.Int.annotate({ description: "The list's length after the call." })

const pushTool = (end: End) => {
  const name = end === "left" ? "lpush" : "rpush"
  const where = end === "left" ? "head (left)" : "tail (right)"
  return Tool.make({
    name,
    title: end === "left" ? "Push to the head of a list" : "Push to the tail of a list",
    description:
      `Add values at the ${where} of the list at \`key\` (${name.toUpperCase()}), creating it if needed. Values go in one at a time in the order given` +
      (end === "left" ? ", so the last one ends up first." : ", so the list keeps their order.") +
      " Use rpush + lpop for a FIFO queue, lpush + lpop for a stack. `onlyIfExists: true` pushes only onto an existing list. " +
      "Optional `ttlSeconds` sets the key's expiry atomically. Returns the new length.",
    toolset: "list",
    input: Schema.Struct({
      key: Key,
      values: nonEmptyStrings("Values to push (at least one)."),
      encoding: InputEncoding,
      ttlSeconds: TtlSeconds,
      onlyIfExists: Schema.optionalKey(
        Schema.Boolean.annotate({
          description: `Push only if the list already exists (${name.toUpperCase()}X); otherwise nothing happens and length is 0.`
        })
      )
    }),
    output: Schema.Struct({ length: Length }),
    hints: Tool.hints.write,
    touches: Tool.touches.key,
    handler: ({ key, values, encoding, ttlSeconds, onlyIfExists }) =>
      Effect.flatMap(Lists, (l) => l.push(end, key, values, { encoding, ttlSeconds, onlyIfExists }))
  })
}

const popTool = (end: End) => {
  const name = end === "left" ? "lpop" : "rpop"
  return Tool.make({
    name,
    title: end === "left" ? "Pop from the head of a list" : "Pop from the tail of a list",
    description:
      `Remove and return up to \`count\` values (default 1) from the ${end === "left" ? "head (left)" : "tail (right)"} of the list at \`key\` (${name.toUpperCase()}), in pop order. ` +
      "A missing key gives an empty list. Pops stop early, before anything is lost, when the values would not fit the output cap " +
      "(then truncated: true: pop again). Removing the last value deletes the key. Never blocks.",
    toolset: "list",
    input: Schema.Struct({
      key: Key,
      count: Schema.optionalKey(
        Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({
          description: "How many values to pop (default 1, at most the server's item cap, 1000 by default)."
        })
      )
    }),
    output: Schema.Struct({
      items: Schema.Array(Item),
      length: Schema.Int.annotate({ description: "Values left in the list." }),
      truncated: Schema.Boolean.annotate({
        description: "true when fewer than `count` were popped to stay under the output cap while more remain."
      })
    }),
    hints: Tool.hints.destroy,
    touches: Tool.touches.key,
    handler: ({ key, count }) => Effect.flatMap(Lists, (l) => l.pop(end, key, count))
  })
}

export const lpush = pushTool("left")
export const rpush = pushTool("right")
export const lpop = popTool("left")
export const rpop = popTool("right")

const Index = (description: string) => Schema.Int.annotate({ description })

export const lrange = Tool.make({
  name: "lrange",
  title: "Read a range of a list",
  description:
    "Read the values of the list at `key` from index `start` to `stop`, both inclusive (LRANGE). Indexes start at 0; " +
    "negative ones count from the end (-1 is the last), so start 0, stop -1 reads the whole list. Out-of-range indexes " +
    "are clamped; a missing key gives an empty list. Pages stay under the output cap: when `truncated` is true, call " +
    "again with the same start and stop plus the returned `cursor`.",
  toolset: "list",
  input: Schema.Struct({
    key: Key,
    start: Index("First index (0-based; negative counts from the end)."),
    stop: Index("Last index, inclusive (-1 is the last value)."),
    cursor: Cursor
  }),
  output: Schema.Struct({
    items: Schema.Array(Item),
    length: Schema.Int.annotate({ description: "The list's length." }),
    ...pageFields
  }),
  hints: Tool.hints.read,
  touches: Tool.touches.key,
  handler: ({ key, start, stop, cursor }) => Effect.flatMap(Lists, (l) => l.range(key, start, stop, cursor))
})

export const llen = Tool.make({
  name: "llen",
  title: "Length of a list",
  description: "Count the values in the list at `key` (LLEN); 0 for a missing key.",
  toolset: "list",
  input: Schema.Struct({ key: Key }),
  output: Schema.Struct({ length: Schema.Int }),
  hints: Tool.hints.read,
  touches: Tool.touches.key,
  handler: ({ key }) => Effect.flatMap(Lists, (l) => l.length(key))
})

export const listTools = [lpush, rpush, lpop, rpop, lrange, llen]

export const listFeature = Feature.make({ name: "list", default: false, tools: listTools })
