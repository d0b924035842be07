/**
 * `slowlog` and `client_list` on a real redis-server shared by two tenants: the
 * slow log shows command names, argument counts and key counts — never a key, a
 * value, or the client's address or name — and with a key prefix only entries on
 * our own keys; the client list never shows an address or a client name, and on a
 * prefixed server shows only its own connection.
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
  {
    readonly run: (...args: Array<string>) => Effect.Effect<unknown>
    readonly id: Effect.Effect<number>
    /** Its address as Redis sees it (ip:port), which no view may show. */
    readonly address: Effect.Effect<string>
  }
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
      yield* run("CLIENT", "SETNAME", NAME)
      return Other.of({
        run,
        id: Effect.map(run("CLIENT", "ID"), Number),
        address: Effect.map(run("CLIENT", "INFO"), (info) => /(?:^| )addr=(\S+)/.exec(String(info))![1]!)
      })
    })
  )
}

const CARD = "4111-1111-1111-1111"
/** The other tenant's connection name: no view may show it. */
const NAME = "tenB-billing-worker"

/** What a client_list entry holds: nothing that says who the client is. */
const CLIENT_FIELDS = [
  "ageSeconds",
  "db",
  "flags",
  "id",
  "idleSeconds",
  "lastCommand",
  "node",
  "outputBufferBytes",
  "queryBufferBytes",
  "totalMemoryBytes"
]

/** Nothing of the other tenant's — its key, its value, its name, its address — is in `text`. */
const assertNoLeak = (text: string, address: string) =>
  Effect.sync(() => {
    for (const leak of ["tenB", "card-number", "4111", "secretvalue", NAME, address]) assert.notInclude(text, leak)
  })

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
  it.effect("slowlog shows only entries on our keys: names and counts, no key, value or client", () =>
    Effect.gen(function* () {
      yield* seed
      const entries = yield* (yield* Admin).slowlog(128)
      const text = JSON.stringify(entries)
      yield* assertNoLeak(text, yield* (yield* Other).address)
      assert.notInclude(text, "mine")
      assert.deepStrictEqual(
        entries.map((e) => [e.command, e.argumentCount, e.keyCount]),
        [[["SET"], 2, 1]]
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
      assert.deepStrictEqual(Object.keys(list.clients[0]!).sort(), CLIENT_FIELDS)
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
    it.effect("slowlog shows command names, argument counts and key counts; never a key, a value or the client", () =>
      Effect.gen(function* () {
        yield* seed
        const entries = yield* (yield* Admin).slowlog(128)
        yield* assertNoLeak(JSON.stringify(entries), yield* (yield* Other).address)
        const shapes = entries.map((e) => [e.command.join(" "), e.argumentCount, e.keyCount])
        for (const shape of [
          ["SET", 2, 1],
          ["ZUNIONSTORE", 4, 3],
          ["OBJECT ENCODING", 2, 1]
        ]) {
          assert.deepInclude(shapes, shape)
        }
        for (const e of entries) {
          assert.deepStrictEqual(Object.keys(e).sort(), [
            "argumentCount",
            "command",
            "durationMicros",
            "id",
            "keyCount",
            "node",
            "timestamp"
          ])
        }
      })
    )

    it.effect("client_list lists every client: its id, age, idle, db, flags, last command name, memory", () =>
      Effect.gen(function* () {
        const other = yield* Other
        yield* other.run("SET", "tenB:card-number", CARD)
        const otherId = yield* other.id
        const list = yield* (yield* Admin).clientList(100)
        const theirs = list.clients.find((c) => c.id === otherId)
        assert.isDefined(theirs)
        assert.strictEqual(theirs!.lastCommand, "client|id")
        assert.isAbove(theirs!.totalMemoryBytes, 0)
        for (const c of list.clients) assert.deepStrictEqual(Object.keys(c).sort(), CLIENT_FIELDS)
        yield* assertNoLeak(JSON.stringify(list), yield* other.address)
      })
    )
  }
)
