/**
 * `slowlog` and `client_list` on a real redis-server shared by two tenants: the
 * slow log never shows arguments (so never values), and with a key prefix shows
 * only entries on our own keys, by their logical names, without client
 * addresses; the client list of a prefixed server shows only its own connection.
 */
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { Redis } from "ioredis"
import { RedisClient } from "../../src/layers/RedisClient.ts"
import { Admin } from "../../src/services/Admin.ts"
import { onRedis } from "../contract/layers.ts"

/** Another tenant's client on the same Redis, without our prefix. */
class Other extends Context.Service<
  Other,
  { readonly run: (...args: Array<string>) => Effect.Effect<unknown>; readonly id: Effect.Effect<number> }
>()("test/OtherTenant") {
  static readonly layer = Layer.effect(
    Other,
    Effect.gen(function* () {
      const url = (yield* RedisClient).settings.url!
      const client = yield* Effect.acquireRelease(
        Effect.sync(() => new Redis(url)),
        (c) => Effect.sync(() => c.disconnect())
      )
      const run = (...args: Array<string>) => Effect.promise(() => client.call(args[0]!, ...args.slice(1)))
      return Other.of({ run, id: Effect.map(run("CLIENT", "ID"), Number) })
    })
  )
}

const CARD = "4111-1111-1111-1111"

/** Every command is slow; then tenant B and tenant A write, behind the server's back. */
const seed = Effect.gen(function* () {
  const other = yield* Other
  yield* other.run("CONFIG", "SET", "slowlog-log-slower-than", "0")
  yield* other.run("SLOWLOG", "RESET")
  yield* other.run("SET", "tenB:card-number", CARD)
  yield* other.run("SET", "tenA:mine", "secretvalue")
  yield* other.run("ZUNIONSTORE", "tenA:dest", "2", "tenA:mine-z", "tenB:z")
  yield* other.run("OBJECT", "ENCODING", "tenB:card-number")
  yield* other.run("CONFIG", "SET", "slowlog-log-slower-than", "10000")
})

layer(onRedis(Layer.mergeAll(Admin.layer, Other.layer), { REDIS_MCP_KEY_PREFIX: "tenA:" }), {
  timeout: 60_000,
  excludeTestServices: true
})("slowlog and client_list on a prefixed server", (it) => {
  it.effect("slowlog shows only entries on our keys, without values, other keys or addresses", () =>
    Effect.gen(function* () {
      yield* seed
      const entries = yield* (yield* Admin).slowlog(128)
      const text = JSON.stringify(entries)
      for (const leak of ["4111", "tenB", "secretvalue"]) assert.notInclude(text, leak)
      assert.deepStrictEqual(
        entries.map((e) => [e.command, e.argumentCount, e.keys, e.clientAddress]),
        [[["SET"], 2, ["mine"], ""]]
      )
    })
  )

  it.effect("client_list shows this server's own connection only", () =>
    Effect.gen(function* () {
      const otherId = yield* (yield* Other).id
      const list = yield* (yield* Admin).clientList(100)
      assert.strictEqual(list.total, 1)
      assert.deepStrictEqual(
        list.clients.map((c) => c.id === otherId),
        [false]
      )
      assert.strictEqual(list.clients[0]!.lastCommand, "client|info")
    })
  )

  it.effect(
    "dbsize and INFO keyspace, which count every tenant's keys, are refused; INFO default leaves keyspace out",
    () =>
      Effect.gen(function* () {
        yield* (yield* Other).run("SET", "tenB:other", "x")
        const admin = yield* Admin
        const dbsize = yield* Effect.flip(admin.dbsize)
        assert.strictEqual(dbsize._tag, "PermissionDenied")
        assert.include(dbsize.message, "scan")
        assert.strictEqual((yield* Effect.flip(admin.info("keyspace")))._tag, "PermissionDenied")
        const [overview] = yield* admin.info("default")
        assert.isDefined(overview!.sections.server)
        assert.isUndefined(overview!.sections.keyspace)
      })
  )
})

layer(onRedis(Layer.mergeAll(Admin.layer, Other.layer)), { timeout: 60_000, excludeTestServices: true })(
  "slowlog and client_list without a prefix",
  (it) => {
    it.effect("slowlog shows command names, argument counts and keys, never values", () =>
      Effect.gen(function* () {
        yield* seed
        const entries = yield* (yield* Admin).slowlog(128)
        const text = JSON.stringify(entries)
        assert.notInclude(text, "4111")
        assert.notInclude(text, "secretvalue")
        const set = entries.find((e) => e.command[0] === "SET" && e.keys.includes("tenB:card-number"))
        assert.deepStrictEqual([set?.command, set?.argumentCount], [["SET"], 2])
        const union = entries.find((e) => e.command[0] === "ZUNIONSTORE")
        assert.deepStrictEqual(union?.keys, ["tenA:dest", "tenA:mine-z", "tenB:z"])
        const object = entries.find((e) => e.command[0] === "OBJECT")
        assert.deepStrictEqual([object?.command, object?.keys], [["OBJECT", "ENCODING"], ["tenB:card-number"]])
        assert.match(set?.clientAddress ?? "", /^127\.0\.0\.1:\d+$/)
      })
    )

    it.effect("client_list lists every client", () =>
      Effect.gen(function* () {
        const otherId = yield* (yield* Other).id
        const list = yield* (yield* Admin).clientList(100)
        assert.isTrue(list.clients.some((c) => c.id === otherId))
      })
    )
  }
)
