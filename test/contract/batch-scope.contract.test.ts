/**
 * The key prefix as a boundary for `command` and `pipeline` (plain and atomic),
 * on memory and on Redis: each attack of the security review, tried as an agent
 * of tenant A ("tenA:") would, is refused before anything is sent, and keys and
 * channels named by a command get the prefix at the positions Redis's key specs
 * give. Scripts, CONFIG and ACL reads are denied by default on every server.
 */
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { Redis } from "ioredis"
import { RedisClient } from "../../src/layers/RedisClient.ts"
import { Batch } from "../../src/services/Batch.ts"
import { runMemoryCommand } from "../../src/services/MemoryCommands.ts"
import { MemoryStore } from "../../src/services/MemoryStore.ts"
import { onMemory, onRedis, redisClientLayer, runContract } from "./layers.ts"

/** The store seen without the prefix, as another tenant (or redis-cli) sees it. */
class Raw extends Context.Service<
  Raw,
  { readonly run: (args: ReadonlyArray<string>) => Effect.Effect<unknown>; readonly url: string | undefined }
>()("test/RawStore") {
  static readonly memory = Layer.effect(
    Raw,
    Effect.map(MemoryStore, (store) =>
      Raw.of({
        run: (args) =>
          Effect.orDie(Effect.map(runMemoryCommand(store, args), (r) => (Buffer.isBuffer(r) ? String(r) : r))),
        url: undefined
      })
    )
  )
  static readonly redis = Layer.effect(
    Raw,
    Effect.gen(function* () {
      const url = (yield* RedisClient).settings.url!
      const client = yield* Effect.acquireRelease(
        Effect.sync(() => new Redis(url)),
        (c) => Effect.sync(() => c.disconnect())
      )
      return Raw.of({ run: (args) => Effect.promise(() => client.call(args[0]!, ...args.slice(1))), url })
    })
  )
}

const PREFIX = "tenA:"
const memory = (env: Record<string, string>) =>
  onMemory(Layer.mergeAll(Batch.layerMemory, Raw.memory).pipe(Layer.provide(MemoryStore.layer)), env)
const redis = (env: Record<string, string>) => onRedis(Layer.mergeAll(Batch.layer, Raw.redis), env)

/** The same command refused through `command`, a pipeline and an atomic pipeline, with `tag`; returns the messages. */
const refusedEverywhere = (args: ReadonlyArray<string>, tag: string) =>
  Effect.gen(function* () {
    const batch = yield* Batch
    const one = yield* Effect.flip(batch.command(args))
    assert.strictEqual(one._tag, tag, `command ${args.join(" ")}: ${one.message}`)
    for (const atomic of [false, true]) {
      const many = yield* Effect.flip(batch.pipeline([["SET", "first", "1"], args], { atomic }))
      assert.strictEqual(many._tag, tag, `pipeline ${args.join(" ")}`)
      assert.include(many.message, "#1")
    }
    return one.message
  })

runContract(
  "Raw commands under a key prefix",
  memory({ REDIS_MCP_KEY_PREFIX: PREFIX }),
  redis({ REDIS_MCP_KEY_PREFIX: PREFIX }),
  (it, target) => {
    it.effect("EVAL reading another tenant's key, and FLUSHDB through EVAL, are refused; nothing ran", () =>
      Effect.gen(function* () {
        const raw = yield* Raw
        yield* raw.run(["SET", "tenB:secret", "s3cret"])
        const message = yield* refusedEverywhere(
          ["EVAL", "return redis.call('GET','tenB:secret')", "0"],
          "PermissionDenied"
        )
        assert.notInclude(message, "s3cret")
        yield* refusedEverywhere(["EVAL", "redis.call('FLUSHDB')", "0"], "PermissionDenied")
        yield* refusedEverywhere(["EVAL_RO", "return 1", "0"], "PermissionDenied")
        yield* refusedEverywhere(["FCALL", "f", "0"], "PermissionDenied")
        assert.strictEqual(yield* raw.run(["GET", "tenB:secret"]), "s3cret")
        // The pipelines' first command (SET first) never ran either.
        assert.strictEqual(yield* raw.run(["EXISTS", `${target.name === "redis" ? PREFIX : ""}first`]), 0)
      })
    )

    it.effect("SCAN, RANDOMKEY, KEYS and DBSIZE, which list or count every tenant's keys, are refused", () =>
      Effect.gen(function* () {
        for (const args of [
          ["SCAN", "0", "MATCH", "*"],
          ["RANDOMKEY"],
          ["KEYS", "*"],
          ["DBSIZE"],
          ["SWAPDB", "0", "1"]
        ]) {
          const message = yield* refusedEverywhere(args, "PermissionDenied")
          // KEYS and SWAPDB are on the deny list as well, which is checked first.
          if (args[0] !== "KEYS" && args[0] !== "SWAPDB") assert.include(message, `key prefix ("${PREFIX}")`)
        }
        assert.include(yield* refusedEverywhere(["SCAN", "0"], "PermissionDenied"), "scan tool")
      })
    )

    it.effect("COPY … DB and MOVE, which take keys out of this database, are refused", () =>
      Effect.gen(function* () {
        const batch = yield* Batch
        const raw = yield* Raw
        yield* batch.command(["SET", "mine", "v"])
        yield* refusedEverywhere(["COPY", "mine", "elsewhere", "DB", "3"], "PermissionDenied")
        yield* refusedEverywhere(["MOVE", "mine", "3"], "PermissionDenied")
        assert.strictEqual((yield* batch.command(["GET", "mine"])).result, "v")
        if (target.name === "redis") assert.strictEqual(yield* raw.run(["GET", `${PREFIX}mine`]), "v")
      })
    )

    it.effect("channel listings and PUBLISH on the server's own state:changes are refused", () =>
      Effect.gen(function* () {
        yield* refusedEverywhere(["PUBSUB", "CHANNELS", "*"], "PermissionDenied")
        yield* refusedEverywhere(["PUBSUB", "SHARDCHANNELS"], "PermissionDenied")
        yield* refusedEverywhere(["PUBLISH", "state:changes", "ns\nkey"], "PermissionDenied")
        yield* refusedEverywhere(["SPUBLISH", "state:changes", "ns\nkey"], "PermissionDenied")
      })
    )

    it.effect("CONFIG GET, ACL LIST and ACL GETUSER are refused (deny list)", () =>
      Effect.gen(function* () {
        yield* refusedEverywhere(["CONFIG", "GET", "requirepass"], "PermissionDenied")
        yield* refusedEverywhere(["ACL", "LIST"], "PermissionDenied")
        yield* refusedEverywhere(["ACL", "GETUSER", "default"], "PermissionDenied")
        yield* refusedEverywhere(["SLOWLOG", "GET", "10"], "PermissionDenied")
        yield* refusedEverywhere(["CLIENT", "LIST"], "PermissionDenied")
      })
    )

    it.effect("commands that name their keys run, on keys under the prefix", () =>
      Effect.gen(function* () {
        const batch = yield* Batch
        const raw = yield* Raw
        assert.strictEqual((yield* batch.command(["SET", "k1", "v1"])).result, "OK")
        const out = yield* batch.pipeline(
          [
            ["MSET", "k2", "v2", "k3", "v3"],
            ["MGET", "k1", "k2", "k3"],
            ["DEL", "k3"]
          ],
          { atomic: true }
        )
        assert.deepStrictEqual(
          out.results.map((r) => r.ok && r.result),
          ["OK", ["v1", "v2", "v3"], 1]
        )
        const dry = yield* batch.command(["SCAN", "0"], { dryRun: true })
        assert.deepStrictEqual([dry.allowed, dry.refusal?.tag], [false, "PermissionDenied"])
        if (target.name === "redis") {
          assert.deepStrictEqual(yield* raw.run(["MGET", `${PREFIX}k1`, `${PREFIX}k2`, "k1"]), ["v1", "v2", null])
        }
      })
    )
  }
)

runContract(
  "Raw commands under a key prefix, scripts allowed by the operator",
  memory({ REDIS_MCP_KEY_PREFIX: PREFIX, REDIS_MCP_COMMAND_ALLOW: "EVAL,FLUSHDB,KEYS" }),
  redis({ REDIS_MCP_KEY_PREFIX: PREFIX, REDIS_MCP_COMMAND_ALLOW: "EVAL,FLUSHDB,KEYS" }),
  (it) => {
    it.effect("a script, FLUSHDB or KEYS still cannot run: nothing keeps it under the prefix", () =>
      Effect.gen(function* () {
        const raw = yield* Raw
        yield* raw.run(["SET", "tenB:keep", "1"])
        assert.include(
          yield* refusedEverywhere(["EVAL", "return redis.call('GET','tenB:keep')", "0"], "PermissionDenied"),
          "script"
        )
        yield* refusedEverywhere(["FLUSHDB"], "PermissionDenied")
        yield* refusedEverywhere(["KEYS", "*"], "PermissionDenied")
        assert.strictEqual(yield* raw.run(["GET", "tenB:keep"]), "1")
      })
    )
  }
)

runContract("Raw commands without a key prefix", memory({}), redis({}), (it) => {
  it.effect("scripts, CONFIG, ACL reads, SLOWLOG and CLIENT LIST are denied by default", () =>
    Effect.gen(function* () {
      for (const args of [
        ["EVAL", "return 1", "0"],
        ["EVALSHA", "0123456789012345678901234567890123456789", "0"],
        ["SCRIPT", "LOAD", "return 1"],
        ["FUNCTION", "LIST"],
        ["CONFIG", "GET", "requirepass"],
        ["ACL", "LIST"],
        ["DEBUG", "SLEEP", "1"],
        ["SLOWLOG", "GET"],
        ["CLIENT", "LIST"]
      ]) {
        const message = yield* refusedEverywhere(args, "PermissionDenied")
        assert.include(message, "REDIS_MCP_COMMAND_ALLOW")
      }
      yield* refusedEverywhere(["MONITOR"], "InvalidArgument")
      yield* refusedEverywhere(["PUBLISH", "state:changes", "x"], "PermissionDenied")
      yield* refusedEverywhere(["PUBLISH", "task:changes", "q"], "PermissionDenied")
    })
  )

  it.effect("the task queue's and state's reserved keys cannot be read or changed: no fencing token rewound", () =>
    Effect.gen(function* () {
      const raw = yield* Raw
      yield* raw.run(["SET", "state:lock:{F}:fence", "7"])
      for (const args of [
        ["SET", "state:lock:{F}:fence", "0"],
        ["DEL", "state:lock:{F}"],
        ["GET", "state:lock:{F}:fence"],
        ["HGETALL", "task:{q}:t1"],
        ["MSET", "ok", "1", "state:doc:{ns}:k", "{}"],
        ["EXPIRE", "task:{q}:t1", "1"]
      ]) {
        const message = yield* refusedEverywhere(args, "PermissionDenied")
        assert.include(message, "reserved")
      }
      assert.strictEqual(String(yield* raw.run(["GET", "state:lock:{F}:fence"])), "7")
      yield* raw.run(["DEL", "state:lock:{F}:fence"])
    })
  )
})

// On Redis only: what the prefix does to commands whose keys Redis finds by keyword or key count.
layer(redis({ REDIS_MCP_KEY_PREFIX: PREFIX }), { timeout: 60_000, excludeTestServices: true })(
  "Raw commands under a key prefix, on Redis",
  (it) => {
    it.effect("keys found from key specs get the prefix: numkeys, STREAMS, STORE, SORT STORE, LMPOP", () =>
      Effect.gen(function* () {
        const batch = yield* Batch
        const raw = yield* Raw
        yield* batch.pipeline([
          ["ZADD", "za", "1", "x"],
          ["ZADD", "zb", "2", "y"],
          ["XADD", "s1", "1-1", "f", "v"],
          ["RPUSH", "l", "3", "1", "2"],
          ["GEOADD", "g", "13.361389", "38.115556", "Palermo"]
        ])
        assert.strictEqual((yield* batch.command(["ZUNIONSTORE", "zd", "2", "za", "zb"])).result, 2)
        assert.deepStrictEqual(yield* raw.run(["ZRANGE", `${PREFIX}zd`, "0", "-1"]), ["x", "y"])
        const read = yield* batch.command(["XREAD", "COUNT", "1", "STREAMS", "s1", "0"])
        assert.deepStrictEqual(read.result, [[`${PREFIX}s1`, [["1-1", ["f", "v"]]]]])
        assert.strictEqual((yield* batch.command(["SORT", "l", "STORE", "sorted"])).result, 3)
        assert.deepStrictEqual(yield* raw.run(["LRANGE", `${PREFIX}sorted`, "0", "-1"]), ["1", "2", "3"])
        yield* batch.command(["GEORADIUS", "g", "13", "38", "200", "km", "STORE", "near"])
        assert.strictEqual(yield* raw.run(["ZCARD", `${PREFIX}near`]), 1)
        const popped = yield* batch.command(["LMPOP", "2", "none", "l", "LEFT"])
        assert.deepStrictEqual(popped.result, [`${PREFIX}l`, ["3"]])
        assert.strictEqual(yield* raw.run(["EXISTS", "zd", "sorted", "near"]), 0)
      })
    )

    it.effect("PUBLISH to another tenant's channel reaches only our own prefixed channel", () =>
      Effect.gen(function* () {
        const batch = yield* Batch
        const raw = yield* Raw
        const listen = (channel: string) =>
          Effect.acquireRelease(
            Effect.promise(async () => {
              const sub = new Redis(raw.url!)
              const got: Array<string> = []
              sub.on("message", (_c: string, m: string) => got.push(m))
              await sub.subscribe(channel)
              return { sub, got }
            }),
            ({ sub }) => Effect.sync(() => sub.disconnect())
          )
        yield* Effect.scoped(
          Effect.gen(function* () {
            const theirs = yield* listen("tenB:news")
            const ours = yield* listen(`${PREFIX}tenB:news`)
            assert.strictEqual((yield* batch.command(["PUBLISH", "tenB:news", "spoof"])).result, 1)
            yield* Effect.promise(() => ours.sub.ping())
            assert.deepStrictEqual(theirs.got, [])
            assert.deepStrictEqual(ours.got, ["spoof"])
          })
        )
      })
    )
  }
)

// A password-protected Redis: CONFIG GET requirepass would return it.
layer(
  Layer.mergeAll(Batch.layer, Raw.redis).pipe(Layer.provideMerge(redisClientLayer({}, { password: "hunter2-secret" }))),
  { timeout: 60_000, excludeTestServices: true }
)("Raw commands on a password-protected Redis", (it) => {
  it.effect("CONFIG GET requirepass and ACL GETUSER are refused and the password is never in the answer", () =>
    Effect.gen(function* () {
      for (const args of [
        ["CONFIG", "GET", "requirepass"],
        ["CONFIG", "GET", "*"],
        ["ACL", "GETUSER", "default"],
        ["ACL", "LIST"]
      ]) {
        const message = yield* refusedEverywhere(args, "PermissionDenied")
        assert.notInclude(message, "hunter2")
      }
      const dry = yield* (yield* Batch).command(["CONFIG", "GET", "requirepass"], { dryRun: true })
      assert.isFalse(dry.executed)
      assert.notInclude(JSON.stringify(dry), "hunter2")
    })
  )
})
