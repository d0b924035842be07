/**
 * The `batch` toolset: `pipeline`, many raw commands in one round trip, atomic
 * on request (MULTI/EXEC). Every command passes the same policy as `command`.
 */
import { Effect, Schema } from "effect"
import { Batch } from "../services/Batch.ts"
import { Encoding } from "../services/Values.ts"
import * as Feature from "./Feature.ts"
import * as Quick from "./quick.ts"
import { JsonValue } from "./schemas.ts"
import * as Tool from "./Tool.ts"

/** One raw argument; numbers are sent as their decimal text. */
export const Arg = Schema.Union([Schema.String, Schema.Finite])
/** A raw command: name first, e.g. ["HSET", "user:1", "name", "Ada"]. */
export const CommandArgs = Schema.Array(Arg).check(Schema.isMinLength(1))
export const toArgs = (args: ReadonlyArray<string | number>): ReadonlyArray<string> => args.map(String)

export const ErrorInfo = Schema.Struct({
  tag: Schema.String.annotate({ description: "Error kind: WrongType, RedisCommandError, PermissionDenied…" }),
  message: Schema.String
})

const Entry = Schema.Union([
  Schema.Struct({
    ok: Schema.Literal(true),
    result: JsonValue.annotate({
      description: "The raw Redis reply: string, integer, null or array (an error inside an array is {error})."
    }),
    encoding: Encoding.annotate({ description: "base64: every string in result is base64 (some were not UTF-8)." })
  }),
  Schema.Struct({ ok: Schema.Literal(false), error: ErrorInfo })
])

/** `[name, ...args]` of strings and finite numbers: what CommandArgs accepts. */
const isCommand: Quick.Test = (u) =>
  Array.isArray(u) &&
  u.length > 0 &&
  u.every((a) => typeof a === "string" || (typeof a === "number" && Number.isFinite(a)))

export const pipeline = Tool.make({
  name: "pipeline",
  title: "Run commands in one round trip",
  description:
    'Run several Redis commands in one round trip, e.g. {"commands": [["SET", "a", "1"], ["INCR", "a"], ["GET", "a"]]}. ' +
    "Each command is [name, ...args]. Results come back in order, each {ok: true, result} or {ok: false, error}: " +
    "one failing command does not stop the others. With atomic: true the commands run as one MULTI/EXEC " +
    "transaction (no other client's command runs in between). Every command is checked first (deny list, " +
    "read-only mode, blocking commands, argument count, the key prefix: the same rules as the command tool); if one " +
    "is refused, nothing is sent. The replies together are limited to the output cap: past it the call fails with " +
    "TooLarge and nothing of them is read (ask for less per command, or split the pipeline). At most 100 commands " +
    "by default. The in-memory store runs only common string, key, hash, list, set and sorted-set commands.",
  toolset: "batch",
  input: Schema.Struct({
    commands: Schema.Array(CommandArgs)
      .check(Schema.isMinLength(1))
      .annotate({ description: 'The commands, each ["NAME", ...args].' }),
    atomic: Schema.optionalKey(
      Schema.Boolean.annotate({ description: "Run as one MULTI/EXEC transaction (default false)." })
    )
  }),
  output: Schema.Struct({
    atomic: Schema.Boolean,
    results: Schema.Array(Entry).annotate({ description: "One entry per command, in order." })
  }),
  hints: Tool.hints.destroy,
  readOnlyHints: Tool.hints.read,
  touches: ({ commands }) => ({ commands: commands.map(toArgs) }),
  // A pipeline of 1000 commands: the schema's decode and encode cost more than the commands' checks.
  quickInput: Quick.struct(
    { commands: (v) => Array.isArray(v) && v.length > 0 && v.every(isCommand) },
    { atomic: Quick.boolean }
  ),
  outputIsJson: true,
  handler: ({ commands, atomic }) =>
    Effect.flatMap(Batch, (b) => b.pipeline(commands.map(toArgs), atomic === undefined ? {} : { atomic }))
})

export const batchTools = [pipeline]

export const batchFeature = Feature.make({ name: "batch", default: false, tools: batchTools })
