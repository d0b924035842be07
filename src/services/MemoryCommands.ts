/**
 * Raw Redis commands on the in-memory keyspace, for `command` and `pipeline`
 * without a Redis: the common string, key, hash, list, set and sorted-set
 * commands, with Redis's replies and error texts. Arity and flags mirror
 * COMMAND INFO so the policy treats both backings alike; anything else needs a
 * real Redis.
 */
import { Effect } from "effect"
import type { RedisCommandError, WrongType } from "../Errors.ts"
import type { CommandInfo, KeySpec } from "./CommandInfo.ts"
import {
  bulk,
  byteRange,
  count,
  expire,
  fail,
  float,
  inclusive,
  incrBy,
  int,
  mem,
  modify,
  ok,
  pairs,
  pop,
  push,
  type Reply,
  RO,
  type Run,
  rangeOf,
  read,
  score,
  set,
  sortedZ,
  ttl,
  upsert,
  W
} from "./MemoryCommandParts.ts"
import type { MemoryStoreShape } from "./MemoryStore.ts"
import { memberBytes } from "./Paging.ts"

export type { Reply } from "./MemoryCommandParts.ts"

/** Where a command's keys are: argument 1, every argument, every other argument (MSET), or none. */
type Keys = "first" | "all" | "pairs" | "none"

interface Spec {
  readonly arity: number
  readonly flags: ReadonlyArray<string>
  readonly run: Run
  readonly keys: Keys
}
const cmd = (arity: number, flags: ReadonlyArray<string>, run: Run, keys: Keys = "first"): Spec => ({
  arity,
  flags,
  run,
  keys
})

const table: Record<string, Spec> = {
  PING: cmd(-1, ["fast"], (_s, _n, [m]) => Effect.succeed(m === undefined ? bulk("PONG") : bulk(m)), "none"),
  ECHO: cmd(2, ["fast"], (_s, _n, [m]) => Effect.succeed(bulk(m!)), "none"),
  DBSIZE: cmd(1, RO, (s) => Effect.map(s.keys, (k) => k.length), "none"),
  EXISTS: cmd(
    -2,
    RO,
    (s, _n, keys) => Effect.map(Effect.forEach(keys, s.get), (es) => es.filter((e) => e !== undefined).length),
    "all"
  ),
  TYPE: cmd(2, RO, (s, _n, [k]) => Effect.map(s.get(k!), (e) => bulk(e?.type ?? "none"))),
  DEL: cmd(-2, ["write"], (s, _n, ks) => Effect.map(Effect.forEach(ks, s.remove), count), "all"),
  UNLINK: cmd(-2, W, (s, _n, ks) => Effect.map(Effect.forEach(ks, s.remove), count), "all"),
  EXPIRE: cmd(-3, W, expire(1000)),
  PEXPIRE: cmd(-3, W, expire(1)),
  TTL: cmd(2, RO, ttl(1000)),
  PTTL: cmd(2, RO, ttl(1)),
  PERSIST: cmd(2, W, (s, _n, [k]) =>
    Effect.map(s.get(k!), (e) => {
      if (e === undefined || e.expiresAt === null) return 0
      e.expiresAt = null
      return 1
    })
  ),
  GET: cmd(2, RO, (s, _n, [k]) => read(s, k!, "string", (e) => e.value, null)),
  SET: cmd(-3, ["write", "denyoom"], set),
  MGET: cmd(
    -2,
    RO,
    (s, _n, ks) => Effect.forEach(ks, (k) => Effect.map(s.get(k), (e) => (e?.type === "string" ? e.value : null))),
    "all"
  ),
  MSET: cmd(
    -3,
    ["write", "denyoom"],
    (s, name, a) =>
      Effect.gen(function* () {
        yield* pairs(name, a, 0)
        for (let i = 0; i < a.length; i += 2)
          yield* s.put(a[i]!, { type: "string", value: bulk(a[i + 1]!), expiresAt: null })
        return ok
      }),
    "pairs"
  ),
  INCR: cmd(2, W, (s, n, [k]) => incrBy(s, n, k!, 1)),
  DECR: cmd(2, W, (s, n, [k]) => incrBy(s, n, k!, -1)),
  INCRBY: cmd(3, W, (s, n, [k, by]) => Effect.flatMap(int(n, by), (b) => incrBy(s, n, k!, b))),
  DECRBY: cmd(3, W, (s, n, [k, by]) => Effect.flatMap(int(n, by), (b) => incrBy(s, n, k!, -b))),
  APPEND: cmd(3, ["write", "denyoom", "fast"], (s, _n, [k, v]) =>
    Effect.flatMap(s.getTyped(k!, "string"), (e) => {
      const value = Buffer.concat([e?.value ?? Buffer.alloc(0), bulk(v!)])
      return Effect.as(s.put(k!, { type: "string", value, expiresAt: e?.expiresAt ?? null }), value.length)
    })
  ),
  STRLEN: cmd(2, RO, (s, _n, [k]) => read(s, k!, "string", (e) => e.value.length, 0)),
  GETRANGE: cmd(4, ["readonly"], (s, n, [k, a, b]) =>
    Effect.flatMap(Effect.all([int(n, a), int(n, b)]), ([start, end]) =>
      read(s, k!, "string", (e) => byteRange(e.value, start, end), Buffer.alloc(0))
    )
  ),
  HSET: cmd(-4, ["write", "denyoom", "fast"], (s, name, [k, ...fv]) =>
    Effect.flatMap(pairs(name, fv, 0), () =>
      Effect.map(upsert(s, k!, "hash"), (e) => {
        let added = 0
        for (let i = 0; i < fv.length; i += 2) {
          if (!e.value.has(mem(fv[i]!))) added++
          e.value.set(mem(fv[i]!), bulk(fv[i + 1]!))
        }
        return added
      })
    )
  ),
  HGET: cmd(3, RO, (s, _n, [k, f]) => read(s, k!, "hash", (e) => e.value.get(mem(f!)) ?? null, null)),
  HMGET: cmd(-3, RO, (s, _n, [k, ...fs]) =>
    read(
      s,
      k!,
      "hash",
      (e) => fs.map((f) => e.value.get(mem(f)) ?? null),
      fs.map(() => null)
    )
  ),
  HGETALL: cmd(2, ["readonly"], (s, _n, [k]) =>
    read(s, k!, "hash", (e) => [...e.value].flatMap(([f, v]) => [memberBytes(f), v]), [])
  ),
  HDEL: cmd(-3, W, (s, _n, [k, ...fs]) =>
    modify(s, k!, "hash", (e) => fs.filter((f) => e.value.delete(mem(f))).length)
  ),
  HEXISTS: cmd(3, RO, (s, _n, [k, f]) => read(s, k!, "hash", (e) => (e.value.has(mem(f!)) ? 1 : 0), 0)),
  HLEN: cmd(2, RO, (s, _n, [k]) => read(s, k!, "hash", (e) => e.value.size, 0)),
  HKEYS: cmd(2, ["readonly"], (s, _n, [k]) => read(s, k!, "hash", (e) => [...e.value.keys()].map(memberBytes), [])),
  HVALS: cmd(2, ["readonly"], (s, _n, [k]) => read(s, k!, "hash", (e) => [...e.value.values()], [])),
  HINCRBY: cmd(4, ["write", "denyoom", "fast"], (s, name, [k, f, by]) =>
    Effect.gen(function* () {
      const b = yield* int(name, by)
      const e = yield* upsert(s, k!, "hash")
      const raw = e.value.get(mem(f!))
      const current = raw === undefined ? 0 : yield* int(name, raw.toString("utf8"))
      e.value.set(mem(f!), bulk(String(current + b)))
      return current + b
    })
  ),
  LPUSH: cmd(-3, ["write", "denyoom", "fast"], push("start")),
  RPUSH: cmd(-3, ["write", "denyoom", "fast"], push("end")),
  LPOP: cmd(-2, W, pop("start")),
  RPOP: cmd(-2, W, pop("end")),
  LLEN: cmd(2, RO, (s, _n, [k]) => read(s, k!, "list", (e) => e.value.length, 0)),
  LINDEX: cmd(3, ["readonly"], (s, n, [k, i]) =>
    Effect.flatMap(int(n, i), (idx) => read(s, k!, "list", (e) => e.value.at(idx) ?? null, null))
  ),
  LRANGE: cmd(4, ["readonly"], (s, n, [k, a, b]) =>
    Effect.flatMap(Effect.all([int(n, a), int(n, b)]), ([start, stop]) =>
      read(s, k!, "list", (e) => e.value.slice(...inclusive(rangeOf(e.value.length, start, stop))), [])
    )
  ),
  SADD: cmd(-3, ["write", "denyoom", "fast"], (s, _n, [k, ...ms]) =>
    Effect.map(upsert(s, k!, "set"), (e) => ms.map(mem).filter((m) => !e.value.has(m) && e.value.add(m)).length)
  ),
  SREM: cmd(-3, W, (s, _n, [k, ...ms]) => modify(s, k!, "set", (e) => ms.filter((m) => e.value.delete(mem(m))).length)),
  SMEMBERS: cmd(2, ["readonly"], (s, _n, [k]) => read(s, k!, "set", (e) => [...e.value].map(memberBytes), [])),
  SISMEMBER: cmd(3, RO, (s, _n, [k, m]) => read(s, k!, "set", (e) => (e.value.has(mem(m!)) ? 1 : 0), 0)),
  SCARD: cmd(2, RO, (s, _n, [k]) => read(s, k!, "set", (e) => e.value.size, 0)),
  ZADD: cmd(-4, ["write", "denyoom", "fast"], (s, name, [k, ...sm]) =>
    Effect.gen(function* () {
      yield* pairs(name, sm, 0)
      const scores = yield* Effect.forEach(
        sm.filter((_, i) => i % 2 === 0),
        (raw) => float(name, raw)
      )
      const e = yield* upsert(s, k!, "zset")
      let added = 0
      scores.forEach((sc, i) => {
        if (!e.value.has(mem(sm[2 * i + 1]!))) added++
        e.value.set(mem(sm[2 * i + 1]!), sc)
      })
      return added
    })
  ),
  ZREM: cmd(-3, W, (s, _n, [k, ...ms]) =>
    modify(s, k!, "zset", (e) => ms.filter((m) => e.value.delete(mem(m))).length)
  ),
  ZSCORE: cmd(3, RO, (s, _n, [k, m]) =>
    read(s, k!, "zset", (e) => (e.value.has(mem(m!)) ? score(e.value.get(mem(m!))!) : null), null)
  ),
  ZCARD: cmd(2, RO, (s, _n, [k]) => read(s, k!, "zset", (e) => e.value.size, 0)),
  ZINCRBY: cmd(4, ["write", "denyoom", "fast"], (s, name, [k, by, m]) =>
    Effect.gen(function* () {
      const b = yield* float(name, by!)
      const e = yield* upsert(s, k!, "zset")
      const next = (e.value.get(mem(m!)) ?? 0) + b
      e.value.set(mem(m!), next)
      return score(next)
    })
  ),
  ZRANGE: cmd(-4, ["readonly"], (s, name, [k, a, b, ...opts]) =>
    Effect.gen(function* () {
      const withScores = opts.length === 1 && opts[0]!.toUpperCase() === "WITHSCORES"
      if (opts.length > 0 && !withScores) {
        return yield* fail(name, "the in-memory store supports ZRANGE start stop [WITHSCORES] only; use a real Redis")
      }
      const [start, stop] = yield* Effect.all([int(name, a), int(name, b)])
      return yield* read(
        s,
        k!,
        "zset",
        (e) => {
          const all = sortedZ(e)
          return all
            .slice(...inclusive(rangeOf(all.length, start, stop)))
            .flatMap(([m, sc]) => (withScores ? [memberBytes(m), score(sc)] : [memberBytes(m)]))
        },
        []
      )
    })
  )
}

/** Every command the in-memory store runs, for messages and docs. */
export const memoryCommandNames: ReadonlyArray<string> = Object.keys(table)

/** The key specs Redis gives these commands, for the key finder (CommandKeys). */
const keySpecs = (keys: Keys, readOnly: boolean): ReadonlyArray<KeySpec> =>
  keys === "none"
    ? []
    : [
        {
          flags: readOnly ? ["RO", "access"] : ["RW", "update"],
          begin: { type: "index", index: 1 },
          find: {
            type: "range",
            lastKey: keys === "first" ? 0 : -1,
            keyStep: keys === "pairs" ? 2 : 1,
            limit: 0
          }
        }
      ]

/** COMMAND INFO of a command the in-memory store runs; undefined for the others. */
export const memoryCommandInfo = (name: string): CommandInfo | undefined => {
  const entry = table[name.toUpperCase()]
  if (entry === undefined) return undefined
  const readOnly = entry.flags.includes("readonly")
  const categories =
    entry.keys === "none"
      ? name.toUpperCase() === "DBSIZE"
        ? ["@keyspace", "@read"]
        : ["@connection"]
      : [readOnly ? "@read" : "@write"]
  return {
    name: name.toLowerCase(),
    arity: entry.arity,
    flags: entry.flags,
    categories,
    keySpecs: keySpecs(entry.keys, readOnly),
    subcommands: new Map()
  }
}

/** Run one command (already checked by the policy: known name, valid arity) on the keyspace. */
export const runMemoryCommand = (
  store: MemoryStoreShape,
  args: ReadonlyArray<string>
): Effect.Effect<Reply, RedisCommandError | WrongType> => {
  const name = args[0]!.toUpperCase()
  const entry = table[name]
  return entry === undefined
    ? fail(name, `unknown command '${args[0]}'`)
    : Effect.suspend(() => entry.run(store, name, args.slice(1)))
}
