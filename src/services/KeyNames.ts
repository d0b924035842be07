/**
 * Rules for the names the generic data tools send to Redis: keys are
 * well-formed text (a lone UTF-16 surrogate would reach Redis as U+FFFD, so two
 * different names would hit one key), at most `REDIS_MCP_MAX_KEY_BYTES` long,
 * and never one of the task queue's or the state documents' own keys, which only
 * their tools may touch (a `del` of a lock's fence would rewind its tokens).
 *
 * The checks run in the services, on both backings, so an embedding app gets
 * them too; the tool input schemas repeat the cheap ones (see src/tools/schemas.ts).
 */
import { Effect } from "effect"
import { InvalidArgument, orVoid, PermissionDenied, quote } from "../Errors.ts"
import { ServerConfig } from "../layers/Config.ts"

export { DEFAULT_MAX_KEY_BYTES, MAX_KEY_BYTES_CEILING } from "../layers/Config.ts"

/** False when `text` holds a lone surrogate (not valid Unicode, so not encodable as UTF-8). */
export const isWellFormed = (text: string): boolean => (text as string & { isWellFormed(): boolean }).isWellFormed()

/** The message for a name that is not valid Unicode text. */
export const illFormed = (what: string, text: string) =>
  `The ${what} ${quote(text)} is not valid Unicode text: it holds a lone UTF-16 surrogate, which Redis would store as U+FFFD (so different names would reach the same data). Send well-formed text.`

/** A field, member, channel or other name that becomes Redis bytes must be well-formed text. */
export const checkText = (what: string, text: string): Effect.Effect<void, InvalidArgument> =>
  isWellFormed(text) ? Effect.void : Effect.fail(new InvalidArgument({ message: illFormed(what, text) }))

/** The data structures whose keys only their own tools may touch. */
export type InternalFamily = "task" | "state"

/**
 * Key names reserved for the task queue and the state documents and locks (see
 * docs/admin/tasks.md and docs/admin/state.md): every key of theirs starts with
 * one of these, after the server's key prefix. The whole namespaces are reserved,
 * so keys added to those layouts later are covered too.
 */
export const INTERNAL_KEY_PREFIXES: Readonly<Record<InternalFamily, string>> = { task: "task:", state: "state:" }

const familyTools: Readonly<Record<InternalFamily, string>> = {
  task: "the task tools (task_get, task_list, queue_stats, task_cancel and the others of the task toolset)",
  state:
    "the state tools (state_get, state_list, state_history, state_delete, lock_acquire, lock_release and the others of the state toolset)"
}

/** Which internal structure `key` (as the tools name it, before the key prefix) belongs to, if any. */
export const internalFamily = (key: string): InternalFamily | undefined =>
  key.startsWith(INTERNAL_KEY_PREFIXES.task)
    ? "task"
    : key.startsWith(INTERNAL_KEY_PREFIXES.state)
      ? "state"
      : undefined

export const isInternalKey = (key: string): boolean => internalFamily(key) !== undefined

/** Why `key` may not be used (ill-formed, over `maxBytes`, or internal), or undefined. */
export const keyNameProblem = (key: string, maxBytes: number): InvalidArgument | PermissionDenied | undefined => {
  if (!isWellFormed(key)) return new InvalidArgument({ message: illFormed("key", key) })
  // A UTF-8 character takes at most 3 bytes per UTF-16 unit: short keys skip the byte count.
  const bytes = key.length * 3 <= maxBytes ? 0 : Buffer.byteLength(key, "utf8")
  if (bytes > maxBytes) {
    return new InvalidArgument({
      message: `The key ${quote(key)} is ${bytes} bytes, over the ${maxBytes}-byte limit for key names (REDIS_MCP_MAX_KEY_BYTES). Use a shorter key.`
    })
  }
  const family = internalFamily(key)
  return family === undefined ? undefined : new PermissionDenied({ message: reservedKeyMessage(key, family) })
}

/** Well-formed, within `maxBytes`, and not internal. */
export const checkKeyName = (key: string, maxBytes: number): Effect.Effect<void, InvalidArgument | PermissionDenied> =>
  orVoid(keyNameProblem(key, maxBytes))

/** Why a reserved key is refused, and what to use instead. */
export const reservedKeyMessage = (key: string, family: InternalFamily): string =>
  `The key ${quote(key)} belongs to the ${family === "task" ? "task queue" : "state documents and locks"}: keys starting with "${INTERNAL_KEY_PREFIXES[family]}" are reserved, and the generic key and data-structure tools (command and pipeline included) may not read or change them. Use ${familyTools[family]}, or pick a key outside "${INTERNAL_KEY_PREFIXES[family]}".`

/** Every key of a call, in order; the first bad one fails it. */
export const checkKeyNames = (
  keys: ReadonlyArray<string>,
  maxBytes: number
): Effect.Effect<void, InvalidArgument | PermissionDenied> => {
  for (const key of keys) {
    const problem = keyNameProblem(key, maxBytes)
    if (problem !== undefined) return Effect.fail(problem)
  }
  return Effect.void
}

/** For each method of a service that takes keys: the keys one call names. */
export type KeysOf<S> = {
  readonly [K in keyof S]?: S[K] extends (...args: infer A) => unknown ? (...args: A) => ReadonlyArray<string> : never
}

/**
 * The service with `checkKeyNames` run before each listed method. Every method
 * listed must already fail with InvalidArgument and PermissionDenied (the service
 * errors all include them).
 */
export const guardKeys = <S extends object>(service: S, keysOf: KeysOf<S>, maxBytes: number): S => {
  const out = { ...service } as Record<string, unknown>
  for (const [name, keys] of Object.entries(keysOf) as Array<
    [string, (...args: Array<unknown>) => ReadonlyArray<string>]
  >) {
    const method = (service as Record<string, (...args: Array<unknown>) => Effect.Effect<unknown, unknown>>)[name]!
    // Checked as the call's Effect is made (the check is pure): no Effect of its own on the way.
    out[name] = (...args: Array<unknown>) => {
      for (const key of keys(...args)) {
        const problem = keyNameProblem(key, maxBytes)
        if (problem !== undefined) return Effect.fail(problem)
      }
      return method(...args)
    }
  }
  return out as S
}

/** A service's `make` with `guardKeys` applied at the configured REDIS_MCP_MAX_KEY_BYTES (pipeable). */
export const withKeyGuard =
  <S extends object>(keysOf: KeysOf<S>) =>
  <E, R>(make: Effect.Effect<S, E, R>): Effect.Effect<S, E, R | ServerConfig> =>
    Effect.gen(function* () {
      const service = yield* make
      const { limits } = yield* ServerConfig
      return guardKeys(service, keysOf, limits.maxKeyBytes)
    })
