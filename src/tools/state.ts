/**
 * The `state` toolset: versioned JSON documents shared between agents, and locks
 * with fencing tokens.
 */
import { Effect, Schema } from "effect"
import { State } from "../services/State.ts"
import { MAX_LOCK_TTL_SECONDS } from "../services/Ttl.ts"
import * as Feature from "./Feature.ts"
import { JsonValue, Text, TtlSeconds } from "./schemas.ts"
import { stateDocument } from "./stateResources.ts"
import * as Tool from "./Tool.ts"

const Namespace = Text.check(Schema.isMinLength(1), Schema.isMaxLength(200), Schema.isPattern(/^[^{}]+$/)).annotate({
  description:
    "Namespace grouping related documents, e.g. a project, team or run id. 1-200 characters, no { or }. All keys of a namespace live together (one Redis Cluster slot)."
})
const Key = Text.check(Schema.isMinLength(1), Schema.isMaxLength(1024)).annotate({
  description: 'Document key within the namespace, e.g. "plan" or "progress/worker-3". 1-1024 characters.'
})
const Version = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const ExpectedVersion = Schema.optionalKey(
  Version.annotate({
    description:
      "Write only if the document is at this version (compare-and-set); 0 means create only (fail if it exists). Omit to write whatever the version. A mismatch fails with VersionConflict carrying currentVersion."
  })
)
const Ttl = (what: string) =>
  Schema.optionalKey(
    TtlSeconds.annotate({
      description: `Expire the document and its history this many seconds from now (at most 10 years). ${what}`
    })
  )
const EpochMs = Schema.Finite.annotate({ description: "Epoch milliseconds." })
const Json = JsonValue.annotate({ description: "Any JSON value: object, array, string, number, boolean or null." })
const Cursor = Schema.optionalKey(
  Schema.String.annotate({
    description: "The cursor of the previous page, passed back unchanged; omit for the first page."
  })
)
const Limit = (what: string) =>
  Schema.optionalKey(Schema.Int.check(Schema.isGreaterThan(0)).annotate({ description: what }))
const OutCursor = Schema.NullOr(Schema.String).annotate({
  description: "Pass as cursor to get the next page; null when there is nothing more."
})
const Doc = { namespace: Namespace, key: Key }

export const stateGet = Tool.make({
  name: "state_get",
  title: "Read a state document",
  description:
    "Read a shared JSON document by namespace and key. Returns {found, value, version, updatedAt, expiresAt}. " +
    "A missing document is not an error: found is false, value null and version 0. Keep the version to write back " +
    "with expectedVersion (compare-and-set), so you never overwrite a change you have not seen.",
  toolset: "state",
  input: Schema.Struct(Doc),
  output: Schema.Struct({
    found: Schema.Boolean,
    value: Json,
    version: Version.annotate({ description: "Current version (1 on creation, +1 per write); 0 when missing." }),
    updatedAt: Schema.NullOr(EpochMs),
    expiresAt: Schema.NullOr(EpochMs).annotate({ description: "When the document expires (epoch ms); null if never." })
  }),
  hints: Tool.hints.read,
  touches: Tool.touches.namespace,
  handler: ({ namespace, key }) => Effect.flatMap(State, (s) => s.get(namespace, key))
})

export const stateSet = Tool.make({
  name: "state_set",
  title: "Write a state document",
  description:
    "Replace a shared JSON document (create it if missing) and return its new version. Pass expectedVersion to " +
    "write only if nobody changed it since you read it (0 = create only); on VersionConflict, state_get again, redo " +
    "your change on the current value and retry with currentVersion. Without ttlSeconds the document never expires " +
    "(a TTL it had is removed). To change a few fields use state_patch instead. Values are limited in size (TooLarge).",
  toolset: "state",
  input: Schema.Struct({
    ...Doc,
    value: Json,
    expectedVersion: ExpectedVersion,
    ttlSeconds: Ttl("Omit to keep it forever.")
  }),
  output: Schema.Struct({
    version: Version,
    updatedAt: EpochMs,
    expiresAt: Schema.NullOr(EpochMs)
  }),
  hints: Tool.hints.destroy,
  touches: Tool.touches.namespace,
  handler: ({ namespace, key, value, expectedVersion, ttlSeconds }) =>
    Effect.flatMap(State, (s) => s.set(namespace, key, value, { expectedVersion, ttlSeconds }))
})

export const statePatch = Tool.make({
  name: "state_patch",
  title: "Merge-patch a state document",
  description:
    "Change some fields of a shared JSON document atomically with an RFC 7396 JSON merge patch: members of the patch " +
    'replace those of the document, nested objects merge, a null member deletes it, arrays are replaced whole (e.g. {"status":"done","draft":null}). ' +
    "Concurrent patches from many agents never lose an update, so no expectedVersion is needed for independent fields; " +
    "pass it to fail with VersionConflict if anything changed since you read. Creates the document from the patch if missing. " +
    "Returns the new version and the whole new value. ttlSeconds sets a new expiry; omitted, the current one is kept.",
  toolset: "state",
  input: Schema.Struct({
    ...Doc,
    patch: Schema.JsonObject.annotate({ description: "The merge patch: a JSON object." }),
    expectedVersion: ExpectedVersion,
    ttlSeconds: Ttl("Omit to keep the document's current expiry.")
  }),
  output: Schema.Struct({
    version: Version,
    value: Json,
    updatedAt: EpochMs,
    expiresAt: Schema.NullOr(EpochMs)
  }),
  hints: Tool.hints.destroy,
  touches: Tool.touches.namespace,
  handler: ({ namespace, key, patch, expectedVersion, ttlSeconds }) =>
    Effect.flatMap(State, (s) => s.patch(namespace, key, patch, { expectedVersion, ttlSeconds }))
})

export const stateDelete = Tool.make({
  name: "state_delete",
  title: "Delete a state document",
  description:
    "Delete a shared document and its history. Returns {deleted, version}: deleted is false when there was nothing " +
    "to delete. Pass expectedVersion to delete only the version you read (VersionConflict otherwise). " +
    "A document created again later starts over at version 1.",
  toolset: "state",
  input: Schema.Struct({ ...Doc, expectedVersion: ExpectedVersion }),
  output: Schema.Struct({
    deleted: Schema.Boolean,
    version: Version.annotate({ description: "The version that was deleted; 0 when there was none." })
  }),
  hints: Tool.hints.overwrite,
  touches: Tool.touches.namespace,
  handler: ({ namespace, key, expectedVersion }) =>
    Effect.flatMap(State, (s) => s.remove(namespace, key, { expectedVersion }))
})

export const stateList = Tool.make({
  name: "state_list",
  title: "List state documents",
  description:
    "List the keys of a namespace in byte order, each with its version and updatedAt, optionally only those " +
    "starting with prefix. Pages hold at most limit keys (default 100); when truncated is true pass cursor back for the next page.",
  toolset: "state",
  input: Schema.Struct({
    namespace: Namespace,
    prefix: Schema.optionalKey(Text.annotate({ description: "Only keys starting with this text." })),
    cursor: Cursor,
    limit: Limit("Most keys to return (default 100, capped by the server's item limit).")
  }),
  output: Schema.Struct({
    items: Schema.Array(Schema.Struct({ key: Schema.String, version: Version, updatedAt: EpochMs })),
    truncated: Schema.Boolean,
    cursor: OutCursor
  }),
  hints: Tool.hints.read,
  touches: Tool.touches.namespace,
  handler: ({ namespace, prefix, cursor, limit }) =>
    Effect.flatMap(State, (s) => s.list(namespace, { prefix, cursor, limit }))
})

export const stateHistory = Tool.make({
  name: "state_history",
  title: "Versions of a state document",
  description:
    "The last versions of a document, newest first (the first entry is the current value), each with its value and " +
    "updatedAt. The server keeps a fixed number of versions per document (20 by default); older ones are gone. " +
    "Use it to see who changed what, or to restore an old value with state_set. Empty for a missing document.",
  toolset: "state",
  input: Schema.Struct({
    ...Doc,
    limit: Limit("Most versions to return (default: all that are kept)."),
    cursor: Cursor
  }),
  output: Schema.Struct({
    entries: Schema.Array(Schema.Struct({ version: Version, updatedAt: EpochMs, value: Json })),
    truncated: Schema.Boolean,
    cursor: OutCursor
  }),
  hints: Tool.hints.read,
  touches: Tool.touches.namespace,
  handler: ({ namespace, key, limit, cursor }) =>
    Effect.flatMap(State, (s) => s.history(namespace, key, { limit, cursor }))
})

const LockName = Namespace.annotate({
  description: 'Name of the lock, e.g. "deploy" or "file:src/main.ts". 1-200 characters, no { or }.'
})
const Owner = Text.check(Schema.isMinLength(1), Schema.isMaxLength(200)).annotate({
  description: "Who holds the lock: a name unique to you (e.g. your agent or worker id)."
})
const FencingToken = Schema.Int.check(Schema.isGreaterThan(0)).annotate({
  description:
    "Number that grows with every new holder of this lock. Pass it along with writes the lock protects, so a stale holder's late write can be refused."
})

export const lockAcquire = Tool.make({
  name: "lock_acquire",
  title: "Acquire a lock",
  description:
    "Try to take a named lock for ttlSeconds; never waits. If it is free (or expired) you get {acquired: true, fencingToken}; " +
    "if someone else holds it, acquired is false with the holder (owner) and when their hold ends (expiresAt): retry after that. " +
    "Calling again as the holder renews the TTL and keeps the token; call it before the TTL runs out for long work. " +
    "Release with lock_release when done.",
  toolset: "state",
  input: Schema.Struct({
    name: LockName,
    owner: Owner,
    ttlSeconds: Schema.Int.check(
      Schema.isGreaterThanOrEqualTo(1),
      Schema.isLessThanOrEqualTo(MAX_LOCK_TTL_SECONDS)
    ).annotate({
      description:
        "How long the lock is held unless renewed or released, at most 86400 (1 day): renew it for longer work. Pick a bit more than the work needs."
    })
  }),
  output: Schema.Struct({
    acquired: Schema.Boolean,
    fencingToken: Schema.NullOr(FencingToken),
    owner: Schema.String.annotate({ description: "Who holds the lock now." }),
    expiresAt: EpochMs
  }),
  hints: Tool.hints.write,
  touches: ({ name }) => ({ namespaces: [`lock:${name}`] }),
  handler: ({ name, owner, ttlSeconds }) => Effect.flatMap(State, (s) => s.acquireLock(name, owner, ttlSeconds))
})

export const lockRelease = Tool.make({
  name: "lock_release",
  title: "Release a lock",
  description:
    "Release a lock you hold, with the owner and fencingToken lock_acquire gave you. released is false when it was " +
    "already free (released, or expired). Fails with LeaseExpired if someone else holds it now: your hold expired, " +
    "so work done after that was not protected.",
  toolset: "state",
  input: Schema.Struct({ name: LockName, owner: Owner, fencingToken: FencingToken }),
  output: Schema.Struct({ released: Schema.Boolean }),
  hints: { readOnly: false, destructive: true, idempotent: true },
  touches: ({ name }) => ({ namespaces: [`lock:${name}`] }),
  handler: ({ name, owner, fencingToken }) => Effect.flatMap(State, (s) => s.releaseLock(name, owner, fencingToken))
})

export const stateTools = [
  stateGet,
  stateSet,
  statePatch,
  stateDelete,
  stateList,
  stateHistory,
  lockAcquire,
  lockRelease
]

export const stateFeature = Feature.make({
  name: "state",
  default: true,
  tools: stateTools,
  resources: [stateDocument]
})
