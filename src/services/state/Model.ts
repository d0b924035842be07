/**
 * What the State service offers (its shape, results and change events) and the
 * rules both of its layers share: names, sizes, cursors, error messages.
 */
import { Effect, type Stream } from "effect"
import { clip, InvalidArgument, LeaseExpired, quote, type RedisError, TooLarge, VersionConflict } from "../../Errors.ts"
import type { ServerSettings } from "../../layers/Config.ts"
import { checkText } from "../KeyNames.ts"
import { checkTtlSeconds, MAX_LOCK_TTL_SECONDS, MAX_TTL_SECONDS } from "../Ttl.ts"
import type { Json } from "./MergePatch.ts"

export type { Json } from "./MergePatch.ts"

/** One document as `state_get` returns it; a missing one has `found: false`, version 0. */
export interface StateDocument {
  readonly found: boolean
  readonly value: Json
  readonly version: number
  readonly updatedAt: number | null
  readonly expiresAt: number | null
}

export interface WriteOptions {
  /** Write only if the document is at this version; 0 means "only if it does not exist". */
  readonly expectedVersion?: number | undefined
  /** Expire the document (and its history) this many seconds from now. */
  readonly ttlSeconds?: number | undefined
}

export interface WriteResult {
  readonly version: number
  readonly updatedAt: number
  readonly expiresAt: number | null
}

export interface PatchResult extends WriteResult {
  readonly value: Json
}

export interface DeleteResult {
  readonly deleted: boolean
  /** The version that was deleted (0 when there was nothing). */
  readonly version: number
}

export interface ListItem {
  readonly key: string
  readonly version: number
  readonly updatedAt: number
}

export interface ListOptions {
  readonly prefix?: string | undefined
  readonly cursor?: string | undefined
  readonly limit?: number | undefined
}

export interface ListPage {
  readonly items: ReadonlyArray<ListItem>
  readonly truncated: boolean
  readonly cursor: string | null
}

export interface HistoryEntry {
  readonly version: number
  readonly updatedAt: number
  readonly value: Json
}

export interface HistoryOptions {
  readonly limit?: number | undefined
  readonly cursor?: string | undefined
}

export interface HistoryPage {
  /** Newest first; the first entry is the current version. */
  readonly entries: ReadonlyArray<HistoryEntry>
  readonly truncated: boolean
  readonly cursor: string | null
}

export interface LockResult {
  readonly acquired: boolean
  /** The holder's fencing token; null when the lock is held by someone else. */
  readonly fencingToken: number | null
  /** Who holds the lock now. */
  readonly owner: string
  /** When the current hold ends unless renewed (epoch ms). */
  readonly expiresAt: number
}

export interface UnlockResult {
  /** False when the lock was already free (released or expired). */
  readonly released: boolean
}

/**
 * What a change listener sees: `Ready` once listening (and again after a lost
 * connection came back, when changes may have been missed), then every change.
 */
export type StateEvent =
  | { readonly _tag: "Ready" }
  | { readonly _tag: "Changed"; readonly namespace: string; readonly key: string }

export type WriteError = RedisError | InvalidArgument | TooLarge | VersionConflict

export interface StateShape {
  readonly get: (namespace: string, key: string) => Effect.Effect<StateDocument, RedisError | InvalidArgument>
  readonly set: (
    namespace: string,
    key: string,
    value: Json,
    options?: WriteOptions
  ) => Effect.Effect<WriteResult, WriteError>
  /** RFC 7396 merge patch (the patch must be an object); creates the document when missing. */
  readonly patch: (
    namespace: string,
    key: string,
    patch: Json,
    options?: WriteOptions
  ) => Effect.Effect<PatchResult, WriteError>
  readonly remove: (
    namespace: string,
    key: string,
    options?: { readonly expectedVersion?: number | undefined }
  ) => Effect.Effect<DeleteResult, RedisError | InvalidArgument | VersionConflict>
  readonly list: (namespace: string, options?: ListOptions) => Effect.Effect<ListPage, RedisError | InvalidArgument>
  readonly history: (
    namespace: string,
    key: string,
    options?: HistoryOptions
  ) => Effect.Effect<HistoryPage, RedisError | InvalidArgument>
  readonly acquireLock: (
    name: string,
    owner: string,
    ttlSeconds: number
  ) => Effect.Effect<LockResult, RedisError | InvalidArgument>
  readonly releaseLock: (
    name: string,
    owner: string,
    fencingToken: number
  ) => Effect.Effect<UnlockResult, RedisError | InvalidArgument | LeaseExpired>
  /** Changes made through any server on the same store; runs until interrupted, reconnecting as needed. */
  readonly changes: Stream.Stream<StateEvent>
}

/** The settings both layers read once, from ServerConfig. */
export interface StateLimits {
  readonly maxValueBytes: number
  readonly maxOutputBytes: number
  readonly maxItems: number
  readonly history: number
}

/**
 * The limits from the server settings. A document must also fit in one tool
 * result (it is returned whole by state_get and state_patch), so the value limit
 * is the smaller of REDIS_MCP_MAX_VALUE_BYTES and the output cap less a margin.
 */
export const stateLimits = (settings: ServerSettings): StateLimits => ({
  maxValueBytes: Math.min(settings.limits.maxValueBytes, outputBudget(settings.limits)),
  maxOutputBytes: settings.limits.maxOutputBytes,
  maxItems: settings.limits.maxItems,
  history: settings.stateHistory
})

export const NAME_MAX = 200
export const KEY_MAX = 1024
/** Room kept under the output cap for everything around the entries. */
const OUTPUT_MARGIN = 4096

/** Namespaces and lock names become Redis Cluster hash tags, so they may not hold braces. */
export const checkName = (what: "namespace" | "lock name", name: string): Effect.Effect<void, InvalidArgument> =>
  name.length === 0 || name.length > NAME_MAX || /[{}]/.test(name)
    ? Effect.fail(
        new InvalidArgument({
          message: `The ${what} ${quote(name)} is not usable: it must be 1 to ${NAME_MAX} characters without { or }. Pick another ${what}.`
        })
      )
    : checkText(what, name)

export const checkKey = (key: string): Effect.Effect<void, InvalidArgument> =>
  key.length === 0 || key.length > KEY_MAX
    ? Effect.fail(new InvalidArgument({ message: `The key must be 1 to ${KEY_MAX} characters. Pick another key.` }))
    : checkText("key", key)

/** A document's ttlSeconds: 1 to MAX_TTL_SECONDS (10 years). */
export const checkDocTtl = (ttlSeconds: number | undefined) => checkTtlSeconds(ttlSeconds, MAX_TTL_SECONDS)

/** A lock's ttlSeconds (1 to MAX_LOCK_TTL_SECONDS, 1 day) and owner (1 to 200 characters of text). */
export const checkLock = (name: string, owner: string, ttlSeconds?: number): Effect.Effect<void, InvalidArgument> =>
  Effect.andThen(
    checkName("lock name", name),
    owner.length === 0 || owner.length > NAME_MAX
      ? Effect.fail(new InvalidArgument({ message: `The owner must be 1 to ${NAME_MAX} characters.` }))
      : Effect.andThen(checkText("owner", owner), checkTtlSeconds(ttlSeconds, MAX_LOCK_TTL_SECONDS))
  )

export const checkDoc = (namespace: string, key: string) =>
  Effect.andThen(checkName("namespace", namespace), checkKey(key))

/** A merge patch must be an object: any other JSON would replace the whole document (use `set` for that). */
export const checkPatch = (patch: Json): Effect.Effect<void, InvalidArgument> =>
  patch !== null && typeof patch === "object" && !Array.isArray(patch)
    ? Effect.void
    : Effect.fail(
        new InvalidArgument({
          message:
            'The patch must be a JSON object (RFC 7396 merge patch), e.g. {"status":"done","draft":null}; a null member removes it. To replace the whole value use state_set.'
        })
      )

export const tooLarge = (what: string, size: number, limit: number) =>
  new TooLarge({
    message: `${what} is ${size} bytes as JSON, over the ${limit}-byte limit for state documents (REDIS_MCP_MAX_VALUE_BYTES, kept under REDIS_MCP_MAX_OUTPUT_BYTES so a document can be read back). Store less, or split it across several keys.`,
    size,
    limit
  })

/** The document as stored: its JSON text, size-checked. */
export const encodeValue = (what: string, value: Json, limits: StateLimits): Effect.Effect<string, TooLarge> => {
  const json = JSON.stringify(value)
  const size = Buffer.byteLength(json)
  return size > limits.maxValueBytes ? Effect.fail(tooLarge(what, size, limits.maxValueBytes)) : Effect.succeed(json)
}

export const conflict = (namespace: string, key: string, expected: number, current: number) =>
  new VersionConflict({
    message:
      current === 0
        ? `State ${namespace}/${clip(key)} does not exist (you expected version ${expected}): it was deleted, expired or never created. Check with state_get; write with expectedVersion 0 to create it.`
        : expected === 0
          ? `State ${namespace}/${clip(key)} already exists at version ${current} (expectedVersion 0 creates only). Read it with state_get and write with expectedVersion ${current}.`
          : `State ${namespace}/${clip(key)} is at version ${current}, not ${expected}: someone else changed it. Read it with state_get, reapply your change to the current value, and write with expectedVersion ${current}.`,
    currentVersion: current
  })

/** A patch that kept losing the compare-and-set race for its whole retry budget. */
export const contention = (namespace: string, key: string, current: number) =>
  new VersionConflict({
    message: `State ${namespace}/${clip(key)} changed too often while this patch was being applied (now at version ${current}); nothing was written. Call state_patch again.`,
    currentVersion: current
  })

export const notHolder = (name: string, holder: string) =>
  new LeaseExpired({
    message: `Lock ${quote(name)} is held by ${quote(holder)} with another fencing token; only the holder can release it. If you held it, your hold expired and was taken over: stop relying on it.`
  })

/** How many items a page may hold: the asked limit (or a default), never above maxItems. */
export const pageSize = (limit: number | undefined, fallback: number, limits: StateLimits) =>
  Math.max(1, Math.min(limit ?? fallback, limits.maxItems))

/** Bytes a page's items may take in a tool result. */
export const outputBudget = (limits: { readonly maxOutputBytes: number }) =>
  Math.max(1, limits.maxOutputBytes - OUTPUT_MARGIN)

/** List cursors are opaque: the last key returned, base64url. */
export const listCursor = {
  encode: (key: string) => Buffer.from(key, "utf8").toString("base64url"),
  decode: (cursor: string): Effect.Effect<string, InvalidArgument> => {
    const key = Buffer.from(cursor, "base64url").toString("utf8")
    return cursor === "" || !/^[A-Za-z0-9_-]+$/.test(cursor) || key.length === 0
      ? Effect.fail(badCursor("state_list"))
      : Effect.succeed(key)
  }
}

/** History cursors are opaque: the last version returned. */
export const historyCursor = {
  encode: (version: number) => `v${version}`,
  decode: (cursor: string): Effect.Effect<number, InvalidArgument> => {
    const m = /^v(\d{1,15})$/.exec(cursor)
    return m ? Effect.succeed(Number(m[1])) : Effect.fail(badCursor("state_history"))
  }
}

const badCursor = (tool: string) =>
  new InvalidArgument({
    message: `The cursor is not one ${tool} returned. Pass back the cursor of the previous page unchanged, or omit it to start over.`
  })

/** Keep entries while they fit the byte budget (at least one). */
export const fitBudget = <A>(entries: ReadonlyArray<A>, budget: number): ReadonlyArray<A> => {
  let used = 0
  const out: Array<A> = []
  for (const e of entries) {
    used += Buffer.byteLength(JSON.stringify(e)) + 1
    if (used > budget && out.length > 0) break
    out.push(e)
  }
  return out
}

/** The state:// URI of a document (each part percent-encoded). */
export const stateUri = (namespace: string, key: string) =>
  `state://${encodeURIComponent(namespace)}/${encodeURIComponent(key)}`

/** The namespace and key a state:// URI names, if it is one. */
export const parseStateUri = (uri: string): { readonly namespace: string; readonly key: string } | undefined => {
  const m = /^state:\/\/([^/]+)\/(.+)$/.exec(uri)
  if (!m) return undefined
  try {
    return { namespace: decodeURIComponent(m[1]!), key: decodeURIComponent(m[2]!) }
  } catch {
    return undefined
  }
}
