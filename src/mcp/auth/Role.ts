/**
 * The role model: a role is toolsets, read-only, and optional glob lists of the keys, channels,
 * queues and namespaces it may touch (logical names, before the key prefix; an absent list
 * allows all, an empty list allows none). A role never widens what the server allows: its
 * settings intersect with the server's own. Checks run before anything reaches Redis.
 */
import { Effect } from "effect"
import { orVoid, PermissionDenied } from "../../Errors.ts"
import { matcher } from "../../services/Glob.ts"
import type { Touches } from "../../tools/Tool.ts"
import { covers } from "./GlobCover.ts"

/** The one call into the glob matcher (Redis semantics), so a new matcher is picked up in one place. */
const compileGlob = (pattern: string): ((name: string) => boolean) => matcher(pattern)

/** The kinds of names a role can scope. */
export const SCOPES = ["keys", "channels", "queues", "namespaces"] as const
export type Scope = (typeof SCOPES)[number]

const singular: Record<Scope, string> = { keys: "key", channels: "channel", queues: "queue", namespaces: "namespace" }

/** A role's compiled glob list for one kind of name. */
export interface PatternList {
  readonly patterns: ReadonlyArray<string>
  readonly matches: (name: string) => boolean
  /** True when every name `pattern` can match is allowed (see GlobCover.ts). */
  readonly covers: (pattern: string) => boolean
}

export const patternList = (patterns: ReadonlyArray<string>): PatternList => {
  const compiled = patterns.map((p) => ({ pattern: p, matches: compileGlob(p) }))
  const matches = (name: string) => compiled.some((c) => c.matches(name))
  return {
    patterns,
    matches,
    covers: (pattern) => compiled.some((c) => covers(c.pattern, pattern, c.matches))
  }
}

/** A role as the auth file gives it, with `toolsets` already expanded to toolset names. */
export interface RoleSpec {
  readonly toolsets: ReadonlyArray<string>
  readonly readOnly?: boolean
  readonly keys?: ReadonlyArray<string>
  readonly channels?: ReadonlyArray<string>
  readonly queues?: ReadonlyArray<string>
  readonly namespaces?: ReadonlyArray<string>
}

export interface Role {
  readonly name: string
  readonly toolsets: ReadonlyArray<string>
  readonly readOnly: boolean
  readonly keys: PatternList | undefined
  readonly channels: PatternList | undefined
  readonly queues: PatternList | undefined
  readonly namespaces: PatternList | undefined
}

export const makeRole = (name: string, spec: RoleSpec): Role => ({
  name,
  toolsets: [...new Set(spec.toolsets)],
  readOnly: spec.readOnly ?? false,
  keys: spec.keys && patternList(spec.keys),
  channels: spec.channels && patternList(spec.channels),
  queues: spec.queues && patternList(spec.queues),
  namespaces: spec.namespaces && patternList(spec.namespaces)
})

/** What a call touches, by logical name: each tool declares it (tools/Tool.ts). An absent field: nothing of that kind. */
export type { Touches } from "../../tools/Tool.ts"

export interface ServerAccess<T extends string> {
  readonly toolsets: ReadonlyArray<T>
  readonly readOnly: boolean
}

/**
 * What a session may use: the server's toolsets that the role also names (in the server's
 * order), read-only if either is. No role (stdio without `REDIS_MCP_ROLE`): the server's own.
 */
export const effectiveSettings = <T extends string>(
  server: ServerAccess<T>,
  role: Role | undefined
): ServerAccess<T> => {
  if (role === undefined) return server
  const allowed = new Set(role.toolsets)
  return { toolsets: server.toolsets.filter((t) => allowed.has(t)), readOnly: server.readOnly || role.readOnly }
}

const shown = (name: string): string => JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}…` : name)

const listed = (list: PatternList): string => {
  if (list.patterns.length === 0) return "none"
  const head = list.patterns.slice(0, 5).map(shown).join(", ")
  return list.patterns.length > 5 ? `${head} and ${list.patterns.length - 5} more` : head
}

const deny = (role: Role, scope: Scope, list: PatternList, what: string) =>
  new PermissionDenied({
    message: `role "${role.name}" may not touch ${what} (its ${scope} patterns: ${listed(list)}); nothing was sent to Redis`,
    reason: "key_pattern"
  })

/** The first name of `touches` outside the role's patterns, as an error; undefined when all are allowed. */
export const denied = (role: Role | undefined, touches: Touches): PermissionDenied | undefined => {
  if (role === undefined) return undefined
  for (const scope of SCOPES) {
    const list = role[scope]
    const names = touches[scope]
    if (list === undefined || names === undefined) continue
    for (const name of names) {
      if (!list.matches(name)) return deny(role, scope, list, `${singular[scope]} ${shown(name)}`)
    }
  }
  return undefined
}

/** Succeeds when the role allows every name the call touches; else `PermissionDenied` naming the first one. */
export const allows = (role: Role | undefined, touches: Touches): Effect.Effect<void, PermissionDenied> =>
  orVoid(denied(role, touches))

/**
 * For calls that take glob patterns (`psubscribe` channel patterns, a `scan` MATCH): succeeds
 * only when every name each pattern can match is allowed (a sound, conservative rule: see GlobCover.ts).
 */
export const allowsPatterns = (
  role: Role | undefined,
  scope: Scope,
  patterns: ReadonlyArray<string>
): Effect.Effect<void, PermissionDenied> => {
  const list = role?.[scope]
  if (role === undefined || list === undefined) return Effect.void
  for (const pattern of patterns) {
    if (!list.covers(pattern)) {
      return Effect.fail(deny(role, scope, list, `every ${singular[scope]} matching pattern ${shown(pattern)}`))
    }
  }
  return Effect.void
}
