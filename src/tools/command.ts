/**
 * The `command` toolset: any Redis command as an argument array, behind the
 * command policy, with a dry run.
 */
import { Effect, Schema } from "effect"
import { Batch } from "../services/Batch.ts"
import { Encoding } from "../services/Values.ts"
import { CommandArgs, ErrorInfo, toArgs } from "./batch.ts"
import * as Feature from "./Feature.ts"
import { JsonValue } from "./schemas.ts"
import * as Tool from "./Tool.ts"

export const command = Tool.make({
  name: "command",
  title: "Run a Redis command",
  description:
    'Run one Redis command given as an argument array, e.g. {"args": ["HGETALL", "user:1"]} or ' +
    '{"args": ["OBJECT", "ENCODING", "user:1"]}. Use it for what no other tool covers. The reply comes back raw ' +
    "(strings, integers, null, arrays; base64 when not UTF-8). A reply over the output cap is refused with TooLarge " +
    "without being read: ask for less (GETRANGE, a COUNT, a LIMIT, a narrower range). Refused: commands on the deny " +
    "list (scripts such as EVAL and FCALL, CONFIG, ACL, FLUSHALL, KEYS, DEBUG… → PermissionDenied), commands that " +
    "block or change the connection (BLPOP, SUBSCRIBE, MULTI, SELECT → InvalidArgument), on a read-only server " +
    "anything Redis does not flag readonly (→ ReadOnlyMode), and with a key prefix any command whose keys are not " +
    "all named in its arguments (SCAN, RANDOMKEY, MOVE… → PermissionDenied; keys get the prefix like in every tool). " +
    "Pass dryRun: true to see whether a command would be allowed without running it.",
  toolset: "command",
  input: Schema.Struct({
    args: CommandArgs.annotate({ description: 'The command and its arguments: ["NAME", ...args].' }),
    dryRun: Schema.optionalKey(
      Schema.Boolean.annotate({ description: "Only check the command against the policy; nothing is sent." })
    )
  }),
  output: Schema.Struct({
    command: Schema.String.annotate({ description: 'The command as checked, with its subcommand ("CONFIG GET").' }),
    flags: Schema.Array(Schema.String).annotate({ description: "Redis's flags for it (COMMAND INFO)." }),
    readOnly: Schema.Boolean.annotate({ description: "Redis flags it readonly." }),
    allowed: Schema.Boolean.annotate({ description: "The policy lets it run." }),
    refusal: Schema.optionalKey(ErrorInfo.annotate({ description: "Why it would be refused (dryRun only)." })),
    executed: Schema.Boolean,
    result: Schema.optionalKey(JsonValue.annotate({ description: "The raw Redis reply (when executed)." })),
    encoding: Schema.optionalKey(Encoding)
  }),
  hints: Tool.hints.destroy,
  readOnlyHints: Tool.hints.read,
  touches: ({ args }) => ({ commands: [toArgs(args)] }),
  handler: ({ args, dryRun }) =>
    Effect.flatMap(Batch, (b) => b.command(toArgs(args), dryRun === undefined ? {} : { dryRun }))
})

export const commandTools = [command]

export const commandFeature = Feature.make({ name: "command", default: false, tools: commandTools })
