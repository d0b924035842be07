/**
 * The `keys` toolset: string values, counters, and operations on keys of any
 * type (delete, exists, TTL, inspect, rename, scan). On by default.
 */
import { Effect, Schema } from "effect"
import { MAX_GLOB_BYTES } from "../services/Glob.ts"
import { MAX_KEY_BYTES_CEILING } from "../services/KeyNames.ts"
import { Kv } from "../services/Kv.ts"
import { MAX_TTL_SECONDS } from "../services/Ttl.ts"
import { Encoding } from "../services/Values.ts"
import * as Feature from "./Feature.ts"
import { partOutput, rangeInput } from "./parts.ts"
import * as Quick from "./quick.ts"
import { GlobPattern, KEY_RULES, KeyName, TtlSeconds } from "./schemas.ts"
import * as Tool from "./Tool.ts"

const Key = KeyName.annotate({ description: `The key name (UTF-8 text). ${KEY_RULES}` })
const Keys = Schema.Array(KeyName)
  .check(Schema.isMinLength(1))
  .annotate({ description: `Key names, at least one and at most the server's item limit (default 1000). ${KEY_RULES}` })
const ValueEncoding = Encoding.annotate({
  description: 'How `value` is written: "utf8" for text (default), "base64" for binary bytes.'
})
const OutEncoding = Encoding.annotate({
  description: '"utf8" when the value is text; "base64" when its bytes are not valid UTF-8 (decode before use).'
})
// get and set skip the schema decode when their arguments plainly pass it (quick.ts): a key
// short enough that its UTF-8 cannot pass the ceiling, whole numbers in range, known words.
const quickKey = Quick.text(0, Math.floor(MAX_KEY_BYTES_CEILING / 3))

const RedisTypeName = Schema.Literals(["string", "hash", "list", "set", "zset", "stream"])

export const get = Tool.make({
  name: "get",
  title: "Get a value",
  description:
    "Read the string value of a key. A missing key is not an error: it returns found:false and value:null. " +
    'Binary values come back base64 with encoding:"base64". A value too big for one result comes back as its first ' +
    "part with truncated:true, its total length in bytes and the offset to pass back to read the next part " +
    "(offset/length read a byte range, like GETRANGE). A key holding a hash, list, set, zset or stream fails with WrongType naming the tool to use.",
  toolset: "keys",
  input: Schema.Struct({ key: Key, ...rangeInput }),
  output: Schema.Struct(partOutput),
  hints: Tool.hints.read,
  touches: Tool.touches.key,
  handler: ({ key, ...options }) => Effect.flatMap(Kv, (kv) => kv.get(key, options)),
  quickInput: Quick.struct(
    { key: quickKey },
    { offset: Quick.intIn(0, Number.MAX_SAFE_INTEGER), length: Quick.intIn(1, Number.MAX_SAFE_INTEGER) }
  ),
  // The service's ValuePart (ValueRange.toPart) is JSON already, in the output schema's order.
  outputIsJson: true
})

export const set = Tool.make({
  name: "set",
  title: "Set a value",
  description:
    "Write a string value to a key, replacing whatever the key held (any type). Optional TTL in seconds; " +
    'condition "ifAbsent" writes only when the key does not exist (a simple create-once or lock), "ifPresent" only when it does. ' +
    "keepTtl keeps the key's current TTL (otherwise a write without ttlSeconds clears it). Returns written:false when the " +
    "condition did not hold. Values over the server's size limit (default 1 MiB) fail with TooLarge.",
  toolset: "keys",
  input: Schema.Struct({
    key: Key,
    value: Schema.String.annotate({ description: "The value: text, or base64 bytes with encoding:base64." }),
    encoding: Schema.optionalKey(ValueEncoding),
    ttlSeconds: Schema.optionalKey(
      TtlSeconds.annotate({ description: "Expire the key after this many seconds (at most 10 years)." })
    ),
    condition: Schema.optionalKey(
      Schema.Literals(["always", "ifAbsent", "ifPresent"]).annotate({
        description: 'When to write: "always" (default), "ifAbsent" (key must not exist), "ifPresent" (key must exist).'
      })
    ),
    keepTtl: Schema.optionalKey(
      Schema.Boolean.annotate({ description: "Keep the key's existing TTL. Cannot be combined with ttlSeconds." })
    )
  }),
  output: Schema.Struct({
    written: Schema.Boolean.annotate({ description: "False when the condition did not hold and nothing was written." })
  }),
  hints: Tool.hints.overwrite,
  touches: Tool.touches.key,
  handler: ({ key, value, ...options }) =>
    Effect.flatMap(Kv, (kv) => Effect.map(kv.set(key, value, options), (written) => ({ written }))),
  quickInput: Quick.struct(
    { key: quickKey, value: (v) => typeof v === "string" },
    {
      encoding: Quick.oneOf("utf8", "base64"),
      ttlSeconds: Quick.intIn(1, MAX_TTL_SECONDS),
      condition: Quick.oneOf("always", "ifAbsent", "ifPresent"),
      keepTtl: Quick.boolean
    }
  ),
  outputIsJson: true
})

export const mget = Tool.make({
  name: "mget",
  title: "Get several values",
  description:
    "Read the string values of several keys in one call, in the order given (each key once). Missing keys (and keys " +
    "holding another type, as with Redis MGET) come back found:false. Results stay under the output cap, decided from " +
    "the sizes before any value is read: values come in order while they fit; when one does not, truncated is true, it " +
    "and the values after it come back value:null with their length, and their keys are listed in remaining: call mget " +
    "again with remaining to read them. A value too big for any one result comes back as its first part with offset: " +
    "read the rest with get (offset).",
  toolset: "keys",
  input: Schema.Struct({ keys: Keys }),
  output: Schema.Struct({
    values: Schema.Array(
      Schema.Struct({
        key: Schema.String,
        found: Schema.Boolean,
        value: Schema.NullOr(Schema.String).annotate({
          description: "The value; null when not found, or when not read in this call (then truncated is true)."
        }),
        encoding: OutEncoding,
        length: Schema.optionalKey(
          Schema.Int.annotate({ description: "Only when truncated: the value's total size in bytes." })
        ),
        truncated: Schema.optionalKey(
          Schema.Boolean.annotate({
            description:
              "The value is not all here: not read in this call (value null; its key is in remaining), or only its first part (see offset)."
          })
        ),
        offset: Schema.optionalKey(
          Schema.Int.annotate({
            description: "Only on a first part: pass to get as offset (with the same key) to read on."
          })
        )
      })
    ).annotate({ description: "One entry per distinct requested key, in the order first given." }),
    truncated: Schema.Boolean.annotate({
      description: "True when some values are not complete here: follow remaining (and offset, if any)."
    }),
    remaining: Schema.Array(Schema.String).annotate({
      description: "Keys whose values did not fit this result; pass them as keys to the next mget call."
    })
  }),
  hints: Tool.hints.read,
  touches: Tool.touches.keys,
  handler: ({ keys }) => Effect.flatMap(Kv, (kv) => kv.mget(keys))
})

export const mset = Tool.make({
  name: "mset",
  title: "Set several values",
  description:
    "Write several string values in one atomic step (all or none), replacing what the keys held. On a Redis Cluster, keys in " +
    "different hash slots are written slot by slot (atomic per slot only); give keys a shared {hash tag} to keep them atomic. With ttlSeconds every " +
    "written key gets that TTL; without it their TTLs are cleared. Each value is subject to the size limit (TooLarge).",
  toolset: "keys",
  input: Schema.Struct({
    entries: Schema.Array(
      Schema.Struct({
        key: Key,
        value: Schema.String.annotate({ description: "The value: text, or base64 bytes with encoding:base64." }),
        encoding: Schema.optionalKey(ValueEncoding)
      })
    )
      .check(Schema.isMinLength(1))
      .annotate({ description: "Keys and values to write, at least one." }),
    ttlSeconds: Schema.optionalKey(
      TtlSeconds.annotate({ description: "Expire every written key after this many seconds (at most 10 years)." })
    )
  }),
  output: Schema.Struct({ written: Schema.Boolean }),
  hints: Tool.hints.overwrite,
  touches: ({ entries }) => ({ keys: entries.map((e) => e.key) }),
  handler: ({ entries, ttlSeconds }) =>
    Effect.flatMap(Kv, (kv) => Effect.map(kv.mset(entries, ttlSeconds), (written) => ({ written })))
})

export const del = Tool.make({
  name: "del",
  title: "Delete keys",
  description:
    "Delete keys of any type (strings, hashes, lists, streams…). Missing keys are ignored. Returns how many keys were deleted.",
  toolset: "keys",
  input: Schema.Struct({ keys: Keys }),
  output: Schema.Struct({
    deleted: Schema.Int.annotate({ description: "Number of keys that existed and were deleted." })
  }),
  hints: Tool.hints.overwrite,
  touches: Tool.touches.keys,
  handler: ({ keys }) => Effect.flatMap(Kv, (kv) => Effect.map(kv.del(keys), (deleted) => ({ deleted })))
})

export const exists = Tool.make({
  name: "exists",
  title: "Check keys exist",
  description: "Check which of the given keys exist (any type). Returns the count and the existing key names.",
  toolset: "keys",
  input: Schema.Struct({ keys: Keys }),
  output: Schema.Struct({
    count: Schema.Int.annotate({ description: "How many of the distinct keys given exist." }),
    existing: Schema.Array(Schema.String).annotate({ description: "The keys that exist, in request order." })
  }),
  hints: Tool.hints.read,
  touches: Tool.touches.keys,
  handler: ({ keys }) => Effect.flatMap(Kv, (kv) => kv.exists(keys))
})

export const expire = Tool.make({
  name: "expire",
  title: "Set or remove a TTL",
  description:
    "Give a key (any type) a time to live: pass ttlSeconds, and the key is deleted that many seconds from now. " +
    "Pass persist:true instead to remove the key's TTL so it lives until deleted. Exactly one of the two. " +
    "Returns applied:false when the key does not exist (or, with persist, had no TTL).",
  toolset: "keys",
  input: Schema.Struct({
    key: Key,
    ttlSeconds: Schema.optionalKey(
      TtlSeconds.annotate({ description: "Seconds until the key expires (at most 10 years)." })
    ),
    persist: Schema.optionalKey(
      Schema.Boolean.annotate({ description: "true: remove the TTL instead of setting one." })
    )
  }),
  output: Schema.Struct({ applied: Schema.Boolean }),
  hints: Tool.hints.overwrite,
  touches: Tool.touches.key,
  handler: ({ key, ...options }) =>
    Effect.flatMap(Kv, (kv) => Effect.map(kv.expire(key, options), (applied) => ({ applied })))
})

export const keyInfo = Tool.make({
  name: "key_info",
  title: "Inspect a key",
  description:
    "Tell whether a key exists, its type (string, hash, list, set, zset, stream; none when missing), its remaining " +
    "TTL in milliseconds (null when it has none) and its size: bytes for a string, entries for the other types. " +
    "Use it to pick the right tool for a key, e.g. after a WrongType error.",
  toolset: "keys",
  input: Schema.Struct({ key: Key }),
  output: Schema.Struct({
    exists: Schema.Boolean,
    type: Schema.String.annotate({ description: 'The Redis type, or "none" when the key does not exist.' }),
    ttlMs: Schema.NullOr(Schema.Int).annotate({ description: "Milliseconds until expiry; null when no TTL." }),
    size: Schema.NullOr(Schema.Int).annotate({
      description: "strlen / hlen / llen / scard / zcard / xlen; 0 when missing, null when unknown for the type."
    })
  }),
  hints: Tool.hints.read,
  touches: Tool.touches.key,
  handler: ({ key }) => Effect.flatMap(Kv, (kv) => kv.keyInfo(key))
})

export const rename = Tool.make({
  name: "rename",
  title: "Rename a key",
  description:
    "Rename a key (any type; its TTL moves with it). Replaces whatever newKey held, unless onlyIfAbsent is true, in which " +
    "case nothing happens when newKey exists (renamed:false). A missing source key fails with NotFound.",
  toolset: "keys",
  input: Schema.Struct({
    key: Key,
    newKey: KeyName.annotate({ description: `The new name. ${KEY_RULES}` }),
    onlyIfAbsent: Schema.optionalKey(
      Schema.Boolean.annotate({ description: "Rename only if newKey does not exist (RENAMENX)." })
    )
  }),
  output: Schema.Struct({ renamed: Schema.Boolean }),
  hints: Tool.hints.destroy,
  touches: ({ key, newKey }) => ({ keys: [key, newKey] }),
  handler: ({ key, newKey, onlyIfAbsent }) =>
    Effect.flatMap(Kv, (kv) => Effect.map(kv.rename(key, newKey, onlyIfAbsent), (renamed) => ({ renamed })))
})

export const incr = Tool.make({
  name: "incr",
  title: "Increment a counter",
  description:
    "Atomically add an integer to the integer stored at a key (a missing key counts as 0) and return the new value. " +
    "Negative `by` decrements. Safe for counters shared between agents. Not idempotent: each call adds again. " +
    "A value that is not an integer fails with InvalidArgument.",
  toolset: "keys",
  input: Schema.Struct({
    key: Key,
    by: Schema.optionalKey(Schema.Int.annotate({ description: "The amount to add (default 1; negative to subtract)." }))
  }),
  output: Schema.Struct({
    value: Schema.Finite.annotate({ description: "The value after the increment (exact up to ±2^53)." })
  }),
  hints: Tool.hints.write,
  touches: Tool.touches.key,
  handler: ({ key, by }) => Effect.flatMap(Kv, (kv) => Effect.map(kv.incr(key, by), (value) => ({ value })))
})

export const scan = Tool.make({
  name: "scan",
  title: "List keys",
  description:
    "List keys page by page, optionally filtered by a glob pattern (match: * any run, ? one char, [abc] a class) and a type. " +
    'Start with no cursor (or "0"), then pass back the returned cursor (with the same match and type) until done is true ' +
    "(truncated is its opposite, as on the other paged tools). A page holds at most limit keys, and may hold fewer, even " +
    "none, while done is false: keep going. Each call does a bounded amount of work; it never blocks Redis. " +
    'Keys reserved for the task queue and the state documents ("task:…", "state:…") are never listed.',
  toolset: "keys",
  input: Schema.Struct({
    cursor: Schema.optionalKey(
      Schema.String.annotate({ description: 'Cursor from the previous page; omit or "0" to start.' })
    ),
    match: Schema.optionalKey(
      GlobPattern.annotate({
        description: `Glob the key must match, e.g. "user:*" (Redis MATCH syntax, at most ${MAX_GLOB_BYTES} bytes).`
      })
    ),
    type: Schema.optionalKey(RedisTypeName.annotate({ description: "Only keys of this type." })),
    count: Schema.optionalKey(
      Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({
        description:
          "Keys Redis examines per round trip; lower it to go gentler on a busy server (default and maximum: limit)."
      })
    ),
    limit: Schema.optionalKey(
      Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({
        description: "At most this many keys in this page (default 100, at most the server's item limit)."
      })
    )
  }),
  output: Schema.Struct({
    keys: Schema.Array(Schema.String),
    cursor: Schema.String.annotate({ description: 'Pass back as cursor for the next page; "0" when done.' }),
    done: Schema.Boolean.annotate({ description: "True when the whole keyspace has been walked." }),
    truncated: Schema.Boolean.annotate({ description: "True while more keys may follow (the opposite of done)." })
  }),
  hints: Tool.hints.read,
  touches: ({ match }) => ({ keyPatterns: [match ?? "*"] }),
  handler: (options) => Effect.flatMap(Kv, (kv) => kv.scan(options))
})

export const keysTools = [get, set, mget, mset, del, exists, expire, keyInfo, rename, incr, scan]

export const keysFeature = Feature.make({ name: "keys", default: true, tools: keysTools })
