/**
 * Batch (`command` and `pipeline`) on memory and on Redis: raw replies (binary
 * safe), dry run, the policy applied before anything is sent, per-command
 * results and errors, atomic pipelines, the length cap, and read-only mode.
 */
import { randomBytes } from "node:crypto"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { RedisClient } from "../../src/layers/RedisClient.ts"
import { ReadOnly } from "../../src/services/Access.ts"
import { Batch } from "../../src/services/Batch.ts"
import { MemoryStore } from "../../src/services/MemoryStore.ts"
import { onMemory, onRedis, runContract } from "./layers.ts"

/** What a test does behind the service's back. */
class Fixture extends Context.Service<
  Fixture,
  {
    /** Store raw bytes at `key`. */
    readonly setRaw: (key: string, value: Buffer) => Effect.Effect<void>
    /** How often Redis answered COMMAND INFO (0 on memory). */
    readonly commandInfoCalls: Effect.Effect<number>
  }
>()("test/BatchFixture") {
  static readonly memory = Layer.effect(
    Fixture,
    Effect.map(MemoryStore, (store) =>
      Fixture.of({
        setRaw: (key, value) => store.put(key, { type: "string", value, expiresAt: null }),
        commandInfoCalls: Effect.succeed(0)
      })
    )
  )
  static readonly redis = Layer.effect(
    Fixture,
    Effect.map(RedisClient, (redis) =>
      Fixture.of({
        setRaw: (key, value) => Effect.orDie(Effect.asVoid(redis.run("SET", (c) => c.set(key, value)))),
        commandInfoCalls: Effect.orDie(
          redis
            .run("INFO", (c) => c.info("commandstats"))
            .pipe(Effect.map((info) => Number(/cmdstat_command\|info:calls=(\d+)/.exec(info)?.[1] ?? 0)))
        )
      })
    )
  )
}

const key = (name: string) => `batch:${name}:${randomBytes(4).toString("hex")}`
const env = { REDIS_MCP_PIPELINE_MAX_COMMANDS: "5" }
const memory = (extra: Record<string, string> = {}) =>
  onMemory(Layer.mergeAll(Batch.layerMemory, Fixture.memory).pipe(Layer.provide(MemoryStore.layer)), {
    ...env,
    ...extra
  })
const redis = (extra: Record<string, string> = {}) =>
  onRedis(Layer.mergeAll(Batch.layer, Fixture.redis), { ...env, ...extra })

runContract("Batch contract", memory(), redis(), (it, target) => {
  it.effect("command runs a command and returns the raw reply", () =>
    Effect.gen(function* () {
      const batch = yield* Batch
      const k = key("cmd")
      const set = yield* batch.command(["set", k, "v", "EX", "100"])
      assert.deepStrictEqual(set, {
        command: "SET",
        flags: set.flags,
        readOnly: false,
        allowed: true,
        executed: true,
        result: "OK",
        encoding: "utf8"
      })
      assert.include(set.flags, "write")
      const get = yield* batch.command(["GET", k])
      assert.strictEqual(get.result, "v")
      assert.isTrue(get.readOnly)
      assert.include([99, 100], (yield* batch.command(["TTL", k])).result)
      assert.isNull((yield* batch.command(["GET", key("missing")])).result)
      const h = key("hash")
      assert.strictEqual((yield* batch.command(["HSET", h, "a", "1", "b", "2"])).result, 2)
      // Raw, not ioredis's object mapping.
      assert.deepStrictEqual((yield* batch.command(["HGETALL", h])).result, ["a", "1", "b", "2"])
      const z = key("zset")
      yield* batch.command(["ZADD", z, "1.5", "m", "3", "n"])
      assert.strictEqual((yield* batch.command(["ZSCORE", z, "m"])).result, "1.5")
      assert.deepStrictEqual((yield* batch.command(["ZRANGE", z, "0", "-1", "WITHSCORES"])).result, [
        "m",
        "1.5",
        "n",
        "3"
      ])
    })
  )

  it.effect("replies are base64, all of them, when any string is not UTF-8", () =>
    Effect.gen(function* () {
      const batch = yield* Batch
      const fixture = yield* Fixture
      const bin = key("bin")
      const text = key("text")
      yield* fixture.setRaw(bin, Buffer.from([0xff, 0xfe]))
      yield* batch.command(["SET", text, "hi"])
      const r = yield* batch.command(["MGET", bin, text, key("none")])
      assert.strictEqual(r.encoding, "base64")
      assert.deepStrictEqual(r.result, [Buffer.from([0xff, 0xfe]).toString("base64"), "aGk=", null])
    })
  )

  it.effect("dryRun says what would run and whether the policy allows it, and sends nothing", () =>
    Effect.gen(function* () {
      const batch = yield* Batch
      const k = key("dry")
      const dry = yield* batch.command(["SET", k, "x"], { dryRun: true })
      assert.deepStrictEqual([dry.command, dry.allowed, dry.executed, dry.refusal], ["SET", true, false, undefined])
      assert.isNull((yield* batch.command(["GET", k])).result)
      const denied = yield* batch.command(["FLUSHALL"], { dryRun: true })
      assert.deepStrictEqual([denied.allowed, denied.executed, denied.refusal?.tag], [false, false, "PermissionDenied"])
      const blocking = yield* batch.command(["BLPOP", k, "0"], { dryRun: true })
      assert.strictEqual(blocking.refusal?.tag, "InvalidArgument")
      const refused = yield* Effect.flip(batch.command(["FLUSHALL"]))
      assert.strictEqual(refused._tag, "PermissionDenied")
      assert.strictEqual((yield* Effect.flip(batch.command(["SUBSCRIBE", "c"])))._tag, "InvalidArgument")
      assert.strictEqual((yield* Effect.flip(batch.command(["GET"])))._tag, "InvalidArgument")
    })
  )

  it.effect("errors from Redis keep their tag", () =>
    Effect.gen(function* () {
      const batch = yield* Batch
      const k = key("wt")
      yield* batch.command(["SET", k, "v"])
      assert.strictEqual((yield* Effect.flip(batch.command(["HGET", k, "f"])))._tag, "WrongType")
      assert.strictEqual((yield* Effect.flip(batch.command(["INCR", k])))._tag, "RedisCommandError")
    })
  )

  for (const atomic of [false, true]) {
    it.effect(`pipeline (atomic: ${atomic}) returns one result per command; a failing one does not stop the rest`, () =>
      Effect.gen(function* () {
        const batch = yield* Batch
        const k = key("pipe")
        const out = yield* batch.pipeline(
          [
            ["SET", k, "1"],
            ["INCR", k],
            ["HGET", k, "f"],
            ["GET", k]
          ],
          atomic ? { atomic } : {}
        )
        assert.strictEqual(out.atomic, atomic)
        assert.deepStrictEqual(out.results.slice(0, 2), [
          { ok: true, result: "OK", encoding: "utf8" },
          { ok: true, result: 2, encoding: "utf8" }
        ])
        const failed = out.results[2]!
        assert.isFalse(failed.ok)
        assert.strictEqual(!failed.ok && failed.error.tag, "WrongType")
        assert.deepStrictEqual(out.results[3], { ok: true, result: "2", encoding: "utf8" })
      })
    )
  }

  it.effect("pipeline checks every command first: one refusal and nothing is sent", () =>
    Effect.gen(function* () {
      const batch = yield* Batch
      const k = key("refused")
      const denied = yield* Effect.flip(batch.pipeline([["SET", k, "1"], ["FLUSHDB"]]))
      assert.strictEqual(denied._tag, "PermissionDenied")
      assert.include(denied.message, "#1 (FLUSHDB)")
      const arity = yield* Effect.flip(batch.pipeline([["SET", k, "1"], ["GET"]], { atomic: true }))
      assert.strictEqual(arity._tag, "InvalidArgument")
      assert.isNull((yield* batch.command(["GET", k])).result)
      const long = yield* Effect.flip(batch.pipeline(Array.from({ length: 6 }, () => ["GET", k])))
      assert.strictEqual(long._tag, "InvalidArgument")
      assert.include(long.message, "REDIS_MCP_PIPELINE_MAX_COMMANDS")
      assert.strictEqual((yield* Effect.flip(batch.pipeline([])))._tag, "InvalidArgument")
    })
  )

  it.effect("a command the backing does not support is an InvalidArgument (memory: needs a real Redis)", () =>
    Effect.gen(function* () {
      const batch = yield* Batch
      const k = key("obj")
      yield* batch.command(["SET", k, "12"])
      const r = yield* Effect.result(batch.command(["OBJECT", "ENCODING", k]))
      if (target.name === "memory") {
        assert.isTrue(r._tag === "Failure" && r.failure._tag === "InvalidArgument")
        assert.include(r._tag === "Failure" ? r.failure.message : "", "real Redis")
      } else {
        assert.isTrue(r._tag === "Success" && r.success.result === "int")
      }
      assert.strictEqual((yield* Effect.flip(batch.command(["NOSUCHCOMMAND"])))._tag, "InvalidArgument")
    })
  )

  it.effect("the in-memory command set answers as Redis does", () =>
    Effect.gen(function* () {
      const batch = yield* Batch
      const [s, h, l, z, t, n] = ["s", "h", "l", "z", "t", "n"].map(key)
      // [command, expected reply]; run one by one so each answer is checked against Redis's.
      const script: ReadonlyArray<readonly [ReadonlyArray<string>, unknown]> = [
        [["SET", s, "a", "NX"], "OK"],
        [["SET", s, "b", "NX"], null],
        [["SET", s, "c", "XX", "GET"], "a"],
        [["SET", n, "x", "XX"], null],
        [["APPEND", s, "de"], 3],
        [["STRLEN", s], 3],
        [["GETRANGE", s, "0", "-2"], "cd"],
        [["GETRANGE", s, "-10", "1"], "cd"],
        [["GETRANGE", s, "5", "10"], ""],
        [["GETRANGE", s, "-1", "-2"], ""],
        [["GETRANGE", n, "0", "-1"], ""],
        [["TYPE", s], "string"],
        [["TYPE", n], "none"],
        [["SET", t, "10", "PX", "100000"], "OK"],
        [["SET", t, "11", "KEEPTTL"], "OK"],
        [["PERSIST", t], 1],
        [["TTL", t], -1],
        [["EXPIRE", t, "100"], 1],
        [["PERSIST", t], 1],
        [["TTL", n], -2],
        [["INCRBY", t, "5"], 16],
        [["DECR", t], 15],
        [["DECRBY", t, "20"], -5],
        [["MSET", s, "1", n, "2"], "OK"],
        [
          ["MGET", s, n, l],
          ["1", "2", null]
        ],
        [["UNLINK", n, l], 1],
        [["HSET", h, "f", "1", "g", "2"], 2],
        [["HSET", h, "f", "3"], 0],
        [["HINCRBY", h, "f", "4"], 7],
        [
          ["HMGET", h, "f", "x"],
          ["7", null]
        ],
        [["HEXISTS", h, "g"], 1],
        [["HLEN", h], 2],
        [
          ["HKEYS", h],
          ["f", "g"]
        ],
        [
          ["HVALS", h],
          ["7", "2"]
        ],
        [["HDEL", h, "f", "g", "x"], 2],
        [["EXISTS", h], 0],
        [["RPUSH", l, "a", "b"], 2],
        [["LPUSH", l, "c", "d"], 4],
        [
          ["LRANGE", l, "0", "-1"],
          ["d", "c", "a", "b"]
        ],
        [
          ["LRANGE", l, "-2", "10"],
          ["a", "b"]
        ],
        [["LINDEX", l, "-1"], "b"],
        [["LPOP", l], "d"],
        [
          ["RPOP", l, "2"],
          ["b", "a"]
        ],
        [["LLEN", l], 1],
        [["LPOP", l, "5"], ["c"]],
        [["EXISTS", l], 0],
        [["LPOP", l], null],
        [["SADD", z + "s", "a", "b", "a"], 2],
        [["SISMEMBER", z + "s", "b"], 1],
        [["SCARD", z + "s"], 2],
        [["SREM", z + "s", "a", "x"], 1],
        [["SMEMBERS", z + "s"], ["b"]],
        [["ZADD", z, "2", "b", "1", "a", "2", "c"], 3],
        [["ZINCRBY", z, "0.5", "a"], "1.5"],
        [
          ["ZRANGE", z, "0", "-1"],
          ["a", "b", "c"]
        ],
        [
          ["ZRANGE", z, "1", "1", "WITHSCORES"],
          ["b", "2"]
        ],
        [["ZREM", z, "b", "x"], 1],
        [["ZCARD", z], 2],
        [["ZSCORE", z, "x"], null],
        [["LPUSH", s, "x"], "WrongType"],
        [["INCR", h + "none", "x"], "InvalidArgument"],
        [["ECHO", "hi"], "hi"],
        [["DEL", s, t, z, z + "s"], 4]
      ]
      for (const [args, expected] of script) {
        const r = yield* Effect.result(batch.command(args))
        const got = r._tag === "Success" ? r.success.result : r.failure._tag
        assert.deepStrictEqual(got, expected, args.join(" "))
      }
    })
  )

  it.effect("COMMAND INFO is asked once per command name", () =>
    Effect.gen(function* () {
      const batch = yield* Batch
      const fixture = yield* Fixture
      const k = key("cache")
      // A command no other test runs (memory does not support it: the lookup is its own table).
      const run = (args: ReadonlyArray<string>) => Effect.ignore(batch.command(args))
      const before = yield* fixture.commandInfoCalls
      yield* run(["HSTRLEN", k, "f"])
      const once = yield* fixture.commandInfoCalls
      yield* run(["hstrlen", k, "f"])
      yield* Effect.ignore(batch.pipeline([["HSTRLEN", k, "f"]]))
      assert.strictEqual(yield* fixture.commandInfoCalls, once)
      assert.strictEqual(once - before, target.name === "redis" ? 1 : 0)
    })
  )
})

/** Read-only calls: the MCP edge sets the ReadOnly reference around each call of a read-only session. */
const readOnly = Layer.succeed(ReadOnly, true)

runContract(
  "Batch contract, read-only server",
  Layer.merge(memory(), readOnly),
  Layer.merge(redis(), readOnly),
  (it) => {
    it.effect("only commands flagged readonly run; writes fail with ReadOnlyMode before anything is sent", () =>
      Effect.gen(function* () {
        const batch = yield* Batch
        const k = key("ro")
        assert.isNull((yield* batch.command(["GET", k])).result)
        assert.strictEqual((yield* Effect.flip(batch.command(["SET", k, "v"])))._tag, "ReadOnlyMode")
        const dry = yield* batch.command(["DEL", k], { dryRun: true })
        assert.deepStrictEqual([dry.allowed, dry.refusal?.tag], [false, "ReadOnlyMode"])
        // PING is not flagged readonly by Redis.
        assert.strictEqual((yield* Effect.flip(batch.command(["PING"])))._tag, "ReadOnlyMode")
        // Redis flags EVAL_RO readonly, but a busy script would block Redis for everyone: denied, never sent.
        const loop = yield* Effect.flip(batch.command(["EVAL_RO", "while true do end", "0"]))
        assert.strictEqual(loop._tag, "PermissionDenied")
        assert.isNull((yield* batch.command(["GET", k])).result)
        const pipe = yield* Effect.flip(
          batch.pipeline([
            ["GET", k],
            ["SET", k, "v"]
          ])
        )
        assert.strictEqual(pipe._tag, "ReadOnlyMode")
        assert.include(pipe.message, "#1 (SET)")
        const reads = yield* batch.pipeline(
          [
            ["EXISTS", k],
            ["GET", k]
          ],
          { atomic: true }
        )
        assert.deepStrictEqual(
          reads.results.map((r) => r.ok && r.result),
          [0, null]
        )
      })
    )
  }
)

layer(redis(), { timeout: 60_000, excludeTestServices: true })("Batch on Redis only", (it) => {
  it.effect("a command Redis rejects while queueing (OOM) aborts an atomic pipeline: no entry ran", () =>
    Effect.gen(function* () {
      const batch = yield* Batch
      const redisClient = yield* RedisClient
      const k = key("oom")
      const setMaxmemory = (bytes: string) =>
        Effect.orDie(redisClient.run("CONFIG", (c) => c.call("CONFIG", "SET", "maxmemory", bytes)))
      yield* setMaxmemory("1")
      const out = yield* batch
        .pipeline(
          [
            ["GET", k],
            ["SET", k, "v"]
          ],
          { atomic: true }
        )
        .pipe(Effect.ensuring(setMaxmemory("0")))
      assert.deepStrictEqual(
        out.results.map((r) => !r.ok && r.error.tag),
        ["RedisCommandError", "RedisCommandError"]
      )
      assert.include(!out.results[0]!.ok ? out.results[0]!.error.message : "", "EXECABORT")
      assert.include(!out.results[0]!.ok ? out.results[0]!.error.message : "", "OOM")
      assert.isNull((yield* batch.command(["GET", k])).result)
    })
  )
})
