/**
 * The key prefix as a boundary for raw commands: a command runs only when all of
 * its keys and channels are named by its arguments (CommandKeys), and then with
 * the prefix put in front of each of them, by us, at the positions Redis's key
 * specs give (ioredis's own prefixing knows only some commands). The rewritten
 * command is checked again: its keys must sit at the same positions and all carry
 * the prefix, or it is refused.
 */
import type { CommandInfo } from "./CommandInfo.ts"
import { type CommandScope, scopeOf } from "./CommandKeys.ts"

export type PrefixOutcome =
  | {
      readonly _tag: "Send"
      readonly args: ReadonlyArray<string>
      /** The keys among `args`, as sent. */
      readonly keys: ReadonlyArray<string>
    }
  | { readonly _tag: "Refused"; readonly reason: string }

const positions = (scope: Extract<CommandScope, { _tag: "Scoped" }>) =>
  [...scope.keys.map((k) => k.index), ...scope.channels.map((c) => c.index)].sort((a, b) => a - b)

/**
 * The arguments to send for `args` under `prefix`, or why it cannot be kept under it.
 * With `rewrite` false (the in-memory store, whose keyspace is the server's own) the
 * arguments are sent as they are, but the same commands are refused.
 */
export const underPrefix = (
  info: CommandInfo,
  args: ReadonlyArray<string>,
  prefix: string,
  rewrite: boolean
): PrefixOutcome => {
  const scope = scopeOf(info, args)
  if (scope._tag === "Unscoped") return { _tag: "Refused", reason: scope.reason }
  if (!rewrite) return { _tag: "Send", args, keys: scope.keys.map((k) => k.name) }
  const at = positions(scope)
  const send = args.map((a, i) => (at.includes(i) ? prefix + a : a))
  const again = scopeOf(info, send)
  if (
    again._tag === "Scoped" &&
    positions(again).join() === at.join() &&
    [...again.keys, ...again.channels].every((r) => r.name.startsWith(prefix))
  ) {
    return { _tag: "Send", args: send, keys: again.keys.map((k) => k.name) }
  }
  return { _tag: "Refused", reason: "names other keys once the prefix is added to its keys" }
}

/** What to do instead, for the commands refused most often under a prefix. */
export const prefixHint = (name: string): string => {
  switch (name) {
    case "SCAN":
    case "KEYS":
    case "RANDOMKEY":
    case "DBSIZE":
      return "List the keys under the prefix with the scan tool."
    case "EVAL":
    case "EVAL_RO":
    case "EVALSHA":
    case "EVALSHA_RO":
    case "FCALL":
    case "FCALL_RO":
      return "Scripts never run on a server with a key prefix."
    case "MOVE":
    case "COPY":
    case "MIGRATE":
    case "SWAPDB":
      return "Keys cannot leave this database; COPY without DB copies within it."
    case "SORT":
    case "SORT_RO":
      return "Sort without BY/GET patterns (or with patterns without *), and read other keys by name."
    case "INFO":
      return "Name the INFO sections you need, e.g. INFO server memory."
    case "PUBSUB":
    case "PSUBSCRIBE":
      return "Use the subscribe tool, which scopes channels and patterns to the prefix."
    default:
      return "Use a typed tool, or a command that names its keys."
  }
}
