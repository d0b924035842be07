/**
 * A role's checks on one call, run after its arguments decode and before its handler, so a
 * refused call sends nothing to Redis. What the call touches (tools/Tool.ts `Touches`) against the
 * role's glob lists: exact names must match, patterns must be covered (GlobCover.ts), a call that
 * reports on the whole server is refused to a role scoping keys, queues or namespaces, and raw commands (`pipeline`,
 * `command`) are checked name by name from Redis's command key specs (CommandKeys). A raw command
 * whose keys cannot be named is refused to a role with a `keys`, `queues` or `namespaces` list,
 * and one that may reach channels it does not name (scripts, pattern subscriptions, PUBSUB) to a
 * role with a `channels` list.
 */
import { Effect } from "effect"
import { PermissionDenied, type RedisError } from "../../Errors.ts"
import { CommandKeys, SCRIPT_COMMANDS } from "../../services/CommandKeys.ts"
import { INTERNAL_KEY_PREFIXES, internalFamily } from "../../services/KeyNames.ts"
import type { Touches } from "../../tools/Tool.ts"
import { allows, allowsPatterns, type Role } from "./Role.ts"

/** Unscoped commands that may reach channels they do not name. */
const REACHES_CHANNELS = new Set([...SCRIPT_COMMANDS, "PSUBSCRIBE", "PUNSUBSCRIBE", "PUBSUB"])

const refuse = (role: Role, message: string) =>
  Effect.fail(
    new PermissionDenied({
      message: `role "${role.name}" ${message}; nothing was sent to Redis`,
      reason: "key_pattern"
    })
  )

/** True when the role limits names of some kind (a call it cannot see the names of is then refused). */
const limitsKeys = (role: Role) => role.keys !== undefined || role.queues !== undefined || role.namespaces !== undefined

const checkCommand = (role: Role, args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const name = (args[0] ?? "").toUpperCase()
    const scope = yield* (yield* CommandKeys).find(args)
    if (scope._tag === "Unscoped") {
      if (limitsKeys(role)) {
        return yield* refuse(role, `may not run ${name}: it ${scope.reason}, so its keys cannot be checked`)
      }
      if (role.channels !== undefined && REACHES_CHANNELS.has(name)) {
        return yield* refuse(role, `may not run ${name}: it ${scope.reason}, so its channels cannot be checked`)
      }
      return
    }
    const keys = scope.keys.map((k) => k.name)
    // The task queue's and the state documents' own keys belong to queues and namespaces: a role
    // scoped to some of those may not reach any of them around the task and state tools.
    for (const key of keys) {
      const family = internalFamily(key)
      const scoped = family === "task" ? role.queues : family === "state" ? role.namespaces : undefined
      if (scoped !== undefined) {
        return yield* refuse(
          role,
          `may not touch key ${JSON.stringify(key.slice(0, 120))} with ${name}: keys under "${INTERNAL_KEY_PREFIXES[family!]}" belong to its ${family === "task" ? "queues" : "namespaces"}, reached only through the ${family} tools`
        )
      }
    }
    yield* allows(role, { keys, channels: scope.channels.map((c) => c.name) })
  })

/** Succeeds when `role` allows everything the call touches; no role allows everything. */
export const checkCall = (
  role: Role | undefined,
  touches: Touches
): Effect.Effect<void, PermissionDenied | RedisError, CommandKeys> => {
  if (role === undefined) return Effect.void
  return Effect.gen(function* () {
    yield* allows(role, touches)
    if (touches.keyPatterns !== undefined) yield* allowsPatterns(role, "keys", touches.keyPatterns)
    if (touches.channelPatterns !== undefined) yield* allowsPatterns(role, "channels", touches.channelPatterns)
    if (touches.serverWide === true && limitsKeys(role)) {
      return yield* refuse(role, "may not read what the whole server holds (other keys, clients or commands)")
    }
    for (const command of touches.commands ?? []) yield* checkCommand(role, command)
  })
}
