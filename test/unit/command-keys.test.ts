/**
 * CommandKeys against the real COMMAND INFO of a redis-server 7: the keys (and
 * channels) of a representative list of commands, each checked against what
 * Redis itself answers to COMMAND GETKEYSANDFLAGS for the same arguments; and
 * the commands whose keys cannot be named (keyspace-wide, other databases,
 * scripts, SORT patterns, channel listings, server-wide views). The memory
 * table answers the same for the commands it runs.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { RedisClient } from "../../src/layers/RedisClient.ts"
import { CommandKeys, type CommandScope } from "../../src/services/CommandKeys.ts"
import { onMemory, onRedis } from "../contract/layers.ts"

/** [args, keys as named, channels as named]; the keys are what Redis's GETKEYSANDFLAGS gives too. */
const scoped: ReadonlyArray<readonly [ReadonlyArray<string>, ReadonlyArray<string>, ReadonlyArray<string>?]> = [
  [["GET", "k"], ["k"]],
  [["SET", "k", "v", "EX", "10", "GET"], ["k"]],
  [
    ["MSET", "a", "1", "b", "2"],
    ["a", "b"]
  ],
  [
    ["DEL", "a", "b", "c"],
    ["a", "b", "c"]
  ],
  [
    ["RENAME", "a", "b"],
    ["a", "b"]
  ],
  [
    ["COPY", "a", "b", "REPLACE"],
    ["a", "b"]
  ],
  [["SORT", "l"], ["l"]],
  [
    ["SORT", "l", "BY", "nosort", "GET", "#", "LIMIT", "0", "5", "STORE", "d"],
    ["l", "d"]
  ],
  [["SORT_RO", "l", "ALPHA", "DESC"], ["l"]],
  [
    ["XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"],
    ["s1", "s2"]
  ],
  [["XREAD", "STREAMS", "STREAMS", "0"], ["STREAMS"]],
  [["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"], ["s"]],
  [
    ["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"],
    ["d", "a", "b"]
  ],
  [
    ["ZINTER", "2", "a", "b", "WITHSCORES"],
    ["a", "b"]
  ],
  [
    ["SINTERCARD", "2", "a", "b", "LIMIT", "1"],
    ["a", "b"]
  ],
  [
    ["LMPOP", "2", "a", "b", "LEFT", "COUNT", "2"],
    ["a", "b"]
  ],
  [
    ["BITOP", "AND", "d", "a", "b"],
    ["d", "a", "b"]
  ],
  [["OBJECT", "ENCODING", "k"], ["k"]],
  [["MEMORY", "USAGE", "k", "SAMPLES", "0"], ["k"]],
  [["XINFO", "STREAM", "s"], ["s"]],
  [
    ["GEORADIUS", "g", "0", "0", "1", "km", "STORE", "d"],
    ["g", "d"]
  ],
  [
    ["GEORADIUS", "g", "0", "0", "1", "km", "COUNT", "3", "STOREDIST", "e"],
    ["g", "e"]
  ],
  [
    ["GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
    ["d", "g"]
  ],
  [
    ["LMOVE", "a", "b", "LEFT", "RIGHT"],
    ["a", "b"]
  ]
]

/** Commands with channels and no keys; GETKEYS has nothing to say about them. */
const channels: ReadonlyArray<readonly [ReadonlyArray<string>, ReadonlyArray<string>]> = [
  [["PUBLISH", "news", "hi"], ["news"]],
  [["SPUBLISH", "news", "hi"], ["news"]],
  [
    ["PUBSUB", "NUMSUB", "a", "b"],
    ["a", "b"]
  ]
]

/** Commands without keys that read nothing of other clients or keys. */
const neutral: ReadonlyArray<ReadonlyArray<string>> = [
  ["PING"],
  ["ECHO", "x"],
  ["TIME"],
  ["INFO", "server", "memory"],
  ["CLIENT", "ID"],
  ["COMMAND", "COUNT"],
  ["CLUSTER", "KEYSLOT", "k"]
]

/** Commands whose keys cannot be named, with a word of the reason. */
const unscoped: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
  [["SCAN", "0", "MATCH", "*"], "whole keyspace"],
  [["KEYS", "*"], "whole keyspace"],
  [["RANDOMKEY"], "whole keyspace"],
  [["DBSIZE"], "whole keyspace"],
  [["FLUSHDB"], "whole keyspace"],
  [["SWAPDB", "0", "1"], "whole keyspace"],
  [["MOVE", "k", "1"], "database"],
  [["COPY", "a", "b", "DB", "3"], "database"],
  [["MIGRATE", "127.0.0.1", "1", "k", "0", "100"], "server"],
  [["EVAL", "return redis.call('GET','secret')", "0"], "script"],
  [["EVAL_RO", "return 1", "1", "k"], "script"],
  [["FCALL", "f", "0"], "script"],
  [["SORT", "l", "BY", "weight_*"], "BY pattern"],
  [["SORT", "l", "GET", "obj_*->name"], "GET pattern"],
  [["PUBSUB", "CHANNELS", "*"], "channels"],
  [["PSUBSCRIBE", "*"], "patterns"],
  [["INFO"], "whole database"],
  [["INFO", "keyspace"], "whole database"],
  [["CLIENT", "LIST"], "whole server"],
  [["SLOWLOG", "GET", "10"], "whole server"],
  [["CONFIG", "GET", "requirepass"], "whole server"],
  [["CLUSTER", "GETKEYSINSLOT", "0", "10"], "slot"],
  [["NOSUCHCOMMAND", "k"], "does not know"],
  [["ZUNIONSTORE", "d", "5", "a", "b"], "cannot tell"]
]

const names = (scope: CommandScope) =>
  scope._tag === "Scoped" ? { keys: scope.keys.map((k) => k.name), channels: scope.channels.map((c) => c.name) } : scope

layer(onRedis(CommandKeys.layer), { timeout: 60_000, excludeTestServices: true })(
  "CommandKeys on redis-server 7",
  (it) => {
    it.effect("finds the keys Redis's GETKEYSANDFLAGS finds, in argument order, with their flags", () =>
      Effect.gen(function* () {
        const keys = yield* CommandKeys
        const redis = yield* RedisClient
        for (const [args, expected] of scoped) {
          const scope = yield* keys.find(args)
          assert.deepStrictEqual(names(scope), { keys: [...expected], channels: [] }, args.join(" "))
          const fromRedis = (yield* Effect.orDie(
            redis.run("COMMAND GETKEYSANDFLAGS", (c) => c.call("COMMAND", ["GETKEYSANDFLAGS", ...args]))
          )) as Array<[string, Array<string>]>
          assert.sameMembers(
            fromRedis.map(([k]) => k),
            [...expected],
            `GETKEYSANDFLAGS ${args.join(" ")}`
          )
          if (scope._tag === "Scoped") {
            for (const k of scope.keys) {
              assert.strictEqual(args[k.index], k.name)
              const flags = fromRedis.find(([name]) => name === k.name)![1]
              assert.includeMembers([...k.flags], flags, `flags of ${k.name} in ${args.join(" ")}`)
            }
          }
        }
      })
    )

    it.effect("names the channels of PUBLISH, SPUBLISH and PUBSUB NUMSUB", () =>
      Effect.gen(function* () {
        const keys = yield* CommandKeys
        for (const [args, expected] of channels) {
          assert.deepStrictEqual(names(yield* keys.find(args)), { keys: [], channels: [...expected] }, args.join(" "))
        }
      })
    )

    it.effect("commands without keys that read nothing of others are scoped, with nothing to scope", () =>
      Effect.gen(function* () {
        const keys = yield* CommandKeys
        for (const args of neutral) {
          assert.deepStrictEqual(names(yield* keys.find(args)), { keys: [], channels: [] }, args.join(" "))
        }
      })
    )

    it.effect("keyspace-wide, other-database, script, pattern and server-wide commands cannot be scoped", () =>
      Effect.gen(function* () {
        const keys = yield* CommandKeys
        for (const [args, word] of unscoped) {
          const scope = yield* keys.find(args)
          assert.strictEqual(scope._tag, "Unscoped", args.join(" "))
          assert.include(scope._tag === "Unscoped" ? scope.reason : "", word, args.join(" "))
        }
      })
    )
  }
)

describe("CommandKeys on the in-memory table", () => {
  layer(onMemory(CommandKeys.layerMemory))("memory", (it) => {
    it.effect("answers as Redis does for the commands it runs, and refuses the rest alike", () =>
      Effect.gen(function* () {
        const keys = yield* CommandKeys
        for (const [args, expected] of [
          [["GET", "k"], ["k"]],
          [["SET", "k", "v", "EX", "10"], ["k"]],
          [
            ["MSET", "a", "1", "b", "2"],
            ["a", "b"]
          ],
          [
            ["DEL", "a", "b", "c"],
            ["a", "b", "c"]
          ],
          [["HSET", "h", "f", "v"], ["h"]],
          [["ZRANGE", "z", "0", "-1"], ["z"]],
          [["PING"], []]
        ] as const) {
          assert.deepStrictEqual(names(yield* keys.find(args)), { keys: [...expected], channels: [] }, args.join(" "))
        }
        for (const args of [["DBSIZE"], ["SCAN", "0"], ["EVAL", "return 1", "0"], ["OBJECT", "ENCODING", "k"]]) {
          assert.strictEqual((yield* keys.find(args))._tag, "Unscoped", args.join(" "))
        }
      })
    )
  })
})
