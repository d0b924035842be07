/**
 * The RedisClient layer on real redis-server processes: standalone, TLS with a
 * client certificate, ACL users, and faults (Redis down at start, killed
 * mid-use, paused past the command timeout), plus the retry rules.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Layer, Schedule } from "effect"
import type { RedisError } from "../../src/Errors.ts"
import { RedisConfig, redisSettingsConfig, ServerConfig, serverSettingsConfig } from "../../src/layers/Config.ts"
import { RedisClient, type RedisClientShape } from "../../src/layers/RedisClient.ts"
import { RedisTestServer, redisResource } from "../support/effect.ts"
import { requireRedis } from "../support/env.ts"
import { freePort } from "../support/ports.ts"
import { type StartRedisOptions, startRedis } from "../support/standalone.ts"

const TIMEOUT_MS = 1000
/** Fast reconnects and a short command timeout, so faults resolve quickly. */
const FAULT_ENV = {
  REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS),
  REDIS_CONNECT_TIMEOUT_MS: "1000",
  REDIS_RETRY_BASE_MS: "50",
  REDIS_RETRY_MAX_MS: "300"
}

/** Settings parsed from `env` exactly as the server parses its environment (fresh layers, no memoization). */
const configFor = (env: Record<string, string>) => {
  const provider = ConfigProvider.fromEnvRecord(env)
  return Layer.mergeAll(
    Layer.effect(RedisConfig, redisSettingsConfig.parse(provider)),
    Layer.effect(ServerConfig, serverSettingsConfig.parse(provider))
  )
}

const clientLayer = (env: Record<string, string>) =>
  Layer.effect(RedisClient, RedisClient.make).pipe(Layer.provide(configFor(env)))

/** A redis-server for the block plus a RedisClient on it. */
const onServer = (options: StartRedisOptions = {}, env: Record<string, string> = {}) =>
  Layer.unwrap(
    Effect.gen(function* () {
      requireRedis()
      const handle = yield* redisResource(options)
      return Layer.mergeAll(
        Layer.succeed(RedisTestServer, handle),
        clientLayer({ ...FAULT_ENV, ...env, REDIS_URL: handle.url })
      )
    })
  )

/** Run `f` with a client built from `env`, released afterwards. */
const withClient = <A, E, R>(env: Record<string, string>, f: (redis: RedisClientShape) => Effect.Effect<A, E, R>) =>
  Effect.scoped(Effect.flatMap(RedisClient, f).pipe(Effect.provide(clientLayer(env))))

/** Fail loudly when a call hangs past its budget instead of answering. */
const noHang = <A, E, R>(effect: Effect.Effect<A, E, R>, ms = TIMEOUT_MS + 1500) =>
  effect.pipe(Effect.timeoutOrElse({ duration: Duration.millis(ms), orElse: () => Effect.die("the call hung") }))

/** The tag of a call's failure (fails the test when it succeeds). */
const failureTag = <A>(effect: Effect.Effect<A, RedisError>) =>
  noHang(Effect.flip(effect)).pipe(Effect.map((e) => e._tag))

/** Wait (polling, bounded) until the client answers PING again. */
const awaitRecovery = (redis: RedisClientShape) =>
  redis
    .awaitReady(15_000)
    .pipe(
      Effect.andThen(redis.run("PING", (c) => c.ping())),
      Effect.retry(Schedule.spaced(Duration.millis(100)).pipe(Schedule.upTo({ times: 100 }))),
      Effect.orDie
    )

const key = (name: string) => `it:${Math.random().toString(36).slice(2)}:${name}`

describe("RedisClient on a standalone redis-server", () => {
  layer(onServer(), { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("connects and runs commands; health is ready with a latency", () =>
      Effect.gen(function* () {
        const redis = yield* RedisClient
        yield* redis.awaitReady(10_000)
        const k = key("s")
        assert.strictEqual(yield* redis.run("SET", (c) => c.set(k, "v")), "OK")
        assert.strictEqual(yield* redis.run("GET", (c) => c.get(k), { idempotent: true }), "v")
        const health = yield* redis.health
        assert.strictEqual(health.mode, "standalone")
        assert.strictEqual(health.state, "ready")
        assert.isNull(health.lastError)
        assert.isNumber(health.latencyMs)
        assert.isNumber(health.connectedSince)
        assert.match(health.target, /^redis:\/\/127\.0\.0\.1:\d+$/)
      })
    )

    it.effect("Redis error replies become tagged errors", () =>
      Effect.gen(function* () {
        const redis = yield* RedisClient
        const handle = yield* RedisTestServer
        const k = key("wrongtype")
        yield* redis.run("SET", (c) => c.set(k, "string"))
        assert.strictEqual(yield* failureTag(redis.run("LPUSH", (c) => c.lpush(k, "x"))), "WrongType")
        assert.strictEqual(
          yield* failureTag(redis.run("BOGUS", (c) => (c as any).call("NOSUCHCOMMAND"))),
          "RedisCommandError"
        )
        yield* Effect.promise(() => handle.command("CONFIG", "SET", "maxmemory", "1"))
        const oom = yield* failureTag(redis.run("SET", (c) => c.set(key("oom"), "x".repeat(1000)))).pipe(
          Effect.ensuring(Effect.promise(() => handle.command("CONFIG", "SET", "maxmemory", "0")))
        )
        assert.strictEqual(oom, "OutOfMemory")
      })
    )

    it.effect("an idempotent call is retried after a transient failure; a non-idempotent one is not", () =>
      Effect.gen(function* () {
        const redis = yield* RedisClient
        let calls = 0
        const flaky = (c: Parameters<Parameters<RedisClientShape["run"]>[1]>[0]) => {
          calls++
          return calls === 1 ? Promise.reject(new Error("LOADING Redis is loading the dataset in memory")) : c.ping()
        }
        assert.strictEqual(yield* redis.run("PING", flaky, { idempotent: true }), "PONG")
        assert.strictEqual(calls, 2)

        calls = 0
        const error = yield* Effect.flip(redis.run("PING", flaky))
        assert.strictEqual(error._tag, "RedisBusy")
        assert.isTrue(error.retryable)
        assert.strictEqual(calls, 1)
      })
    )

    it.effect("an idempotent call is not retried on a non-retryable error", () =>
      Effect.gen(function* () {
        const redis = yield* RedisClient
        const k = key("wt")
        yield* redis.run("SET", (c) => c.set(k, "string"))
        let calls = 0
        const tag = yield* failureTag(
          redis.run(
            "LLEN",
            (c) => {
              calls++
              return c.llen(k)
            },
            { idempotent: true }
          )
        )
        assert.strictEqual(tag, "WrongType")
        assert.strictEqual(calls, 1)
      })
    )

    it.effect("a Redis paused past the command timeout gives Timeout, then recovers", () =>
      Effect.gen(function* () {
        const redis = yield* RedisClient
        const handle = yield* RedisTestServer
        yield* Effect.promise(() => handle.pause(TIMEOUT_MS * 3))
        const k = key("paused")
        const set = yield* noHang(Effect.flip(redis.run("SET", (c) => c.set(k, "v"))))
        assert.strictEqual(set._tag, "Timeout")
        assert.isTrue(set.retryable)
        // Idempotent: retries stay inside the same budget, so it times out just the same.
        assert.strictEqual(yield* failureTag(redis.run("GET", (c) => c.get(k), { idempotent: true })), "Timeout")
        assert.strictEqual(yield* awaitRecovery(redis), "PONG")
        assert.strictEqual(yield* redis.run("SET", (c) => c.set(k, "after")), "OK")
        assert.strictEqual((yield* redis.health).state, "ready")
      })
    )

    it.effect("Redis killed mid-use: calls fail fast with RedisUnavailable, then succeed after a restart", () =>
      Effect.gen(function* () {
        const redis = yield* RedisClient
        const handle = yield* RedisTestServer
        const before = (yield* redis.health).reconnects
        assert.strictEqual(yield* redis.run("PING", (c) => c.ping()), "PONG")

        yield* Effect.promise(() => handle.kill())
        // Right after the kill the socket may not have noticed yet: unavailable or timed out, never a hang.
        assert.include(["RedisUnavailable", "Timeout"], yield* failureTag(redis.run("PING", (c) => c.ping())))
        yield* redis.health.pipe(
          Effect.flatMap((h) => (h.state === "ready" ? Effect.fail("still ready") : Effect.succeed(h))),
          Effect.retry(Schedule.spaced(Duration.millis(50)).pipe(Schedule.upTo({ times: 100 }))),
          Effect.orDie
        )
        const k = key("killed")
        assert.strictEqual(
          yield* failureTag(redis.run("PING", (c) => c.ping(), { idempotent: true })),
          "RedisUnavailable"
        )
        assert.strictEqual(yield* failureTag(redis.run("SET", (c) => c.set(k, "v"))), "RedisUnavailable")
        const down = yield* redis.health
        assert.include(["reconnecting", "connecting"], down.state)
        assert.isNotNull(down.lastError)
        assert.isNotNull(down.lastErrorAt)
        assert.isNull(down.connectedSince)
        assert.isAbove(down.reconnects, before)

        yield* Effect.promise(() => handle.restart())
        assert.strictEqual(yield* awaitRecovery(redis), "PONG")
        assert.strictEqual(yield* redis.run("SET", (c) => c.set(k, "v")), "OK")
        const up = yield* redis.health
        assert.strictEqual(up.state, "ready")
        assert.isAtLeast(up.reconnects, before + 1)
      })
    )
  })
})

describe("RedisClient started while Redis is down", () => {
  it.live(
    "fails fast with RedisUnavailable, then connects by itself once Redis starts",
    () =>
      Effect.gen(function* () {
        requireRedis()
        const port = yield* Effect.promise(() => freePort())
        yield* withClient({ ...FAULT_ENV, REDIS_URL: `redis://127.0.0.1:${port}` }, (redis) =>
          Effect.gen(function* () {
            assert.strictEqual(
              yield* failureTag(redis.run("PING", (c) => c.ping(), { idempotent: true })),
              "RedisUnavailable"
            )
            assert.strictEqual(yield* failureTag(redis.run("SET", (c) => c.set("k", "v"))), "RedisUnavailable")
            const down = yield* redis.health
            assert.include(["connecting", "reconnecting"], down.state)
            assert.match(down.lastError ?? "", /ECONNREFUSED|refused/i)
            assert.strictEqual((yield* Effect.flip(redis.awaitReady(200)))._tag, "RedisUnavailable")

            yield* Effect.acquireRelease(
              Effect.promise(() => startRedis({ port })),
              (h) => Effect.promise(() => h.dispose())
            )
            assert.strictEqual(yield* awaitRecovery(redis), "PONG")
            assert.strictEqual((yield* redis.health).state, "ready")
          })
        )
      }),
    60_000
  )
})

describe("RedisClient over TLS (rediss://) with a client certificate", () => {
  // tls-auth-clients yes: the server refuses a client without a certificate.
  layer(onServer({ tls: true, config: [["tls-auth-clients", "yes"]] }), { timeout: 60_000, excludeTestServices: true })(
    (it) => {
      it.effect("connects with the CA, the client certificate and key", () =>
        Effect.gen(function* () {
          const handle = yield* RedisTestServer
          assert.match(handle.url, /^rediss:\/\//)
          const env = {
            ...FAULT_ENV,
            REDIS_URL: handle.url,
            REDIS_TLS_CA_FILE: handle.tls!.caFile,
            REDIS_TLS_CERT_FILE: handle.tls!.certFile,
            REDIS_TLS_KEY_FILE: handle.tls!.keyFile
          }
          yield* withClient(env, (redis) =>
            Effect.gen(function* () {
              yield* redis.awaitReady(10_000)
              assert.strictEqual(yield* redis.run("PING", (c) => c.ping()), "PONG")
              assert.match((yield* redis.health).target, /^rediss:\/\//)
            })
          )
        })
      )

      it.effect("a plain redis:// URL with REDIS_TLS_CA_FILE turns TLS on", () =>
        Effect.gen(function* () {
          const handle = yield* RedisTestServer
          const env = {
            ...FAULT_ENV,
            REDIS_URL: `redis://127.0.0.1:${handle.port}`,
            REDIS_TLS_CA_FILE: handle.tls!.caFile,
            REDIS_TLS_CERT_FILE: handle.tls!.certFile,
            REDIS_TLS_KEY_FILE: handle.tls!.keyFile
          }
          yield* withClient(env, (redis) =>
            Effect.gen(function* () {
              yield* redis.awaitReady(10_000)
              assert.strictEqual(yield* redis.run("PING", (c) => c.ping()), "PONG")
            })
          )
        })
      )

      it.effect("without the CA the certificate is rejected: never ready, health says why", () =>
        Effect.gen(function* () {
          const handle = yield* RedisTestServer
          const env = {
            ...FAULT_ENV,
            REDIS_URL: handle.url,
            REDIS_TLS_CERT_FILE: handle.tls!.certFile,
            REDIS_TLS_KEY_FILE: handle.tls!.keyFile
          }
          yield* withClient(env, (redis) =>
            Effect.gen(function* () {
              assert.strictEqual((yield* Effect.flip(redis.awaitReady(1500)))._tag, "RedisUnavailable")
              assert.strictEqual(yield* failureTag(redis.run("PING", (c) => c.ping())), "RedisUnavailable")
              assert.match((yield* redis.health).lastError ?? "", /certificate/i)
            })
          )
        })
      )

      it.effect("without a client certificate the server refuses the connection", () =>
        Effect.gen(function* () {
          const handle = yield* RedisTestServer
          const env = { ...FAULT_ENV, REDIS_URL: handle.url, REDIS_TLS_CA_FILE: handle.tls!.caFile }
          yield* withClient(env, (redis) =>
            Effect.gen(function* () {
              assert.strictEqual((yield* Effect.flip(redis.awaitReady(1500)))._tag, "RedisUnavailable")
              assert.isNotNull((yield* redis.health).lastError)
            })
          )
        })
      )
    }
  )
})

describe("RedisClient with ACL users", () => {
  const reader = { name: "reader", password: "r3ad-only", rules: "~* &* +@read +@connection +info" }
  layer(onServer({ password: "adm1n-pass", aclUsers: [reader] }), { timeout: 60_000, excludeTestServices: true })(
    (it) => {
      it.effect("the default user's password in the URL authenticates", () =>
        Effect.gen(function* () {
          const redis = yield* RedisClient
          yield* redis.awaitReady(10_000)
          assert.strictEqual(yield* redis.run("SET", (c) => c.set(key("acl"), "v")), "OK")
        })
      )

      it.effect("REDIS_USERNAME/REDIS_PASSWORD log in as the ACL user; a forbidden command is PermissionDenied", () =>
        Effect.gen(function* () {
          const handle = yield* RedisTestServer
          const env = {
            ...FAULT_ENV,
            REDIS_URL: `redis://127.0.0.1:${handle.port}`,
            REDIS_USERNAME: reader.name,
            REDIS_PASSWORD: reader.password
          }
          yield* withClient(env, (redis) =>
            Effect.gen(function* () {
              yield* redis.awaitReady(10_000)
              assert.isNull(yield* redis.run("GET", (c) => c.get(key("missing")), { idempotent: true }))
              const denied = yield* noHang(Effect.flip(redis.run("SET", (c) => c.set(key("w"), "v"))))
              assert.strictEqual(denied._tag, "PermissionDenied")
              assert.isFalse(denied.retryable)
              assert.include(denied.message, "NOPERM")
              // A transaction refused as a whole (EXECABORT) is reported by its reason too.
              const aborted = yield* failureTag(redis.run("MULTI", (c) => c.multi().get(key("m")).exec()))
              assert.strictEqual(aborted, "PermissionDenied")
              assert.strictEqual((yield* redis.health).state, "ready")
            })
          )
        })
      )

      it.effect("the ACL user in the URL works the same", () =>
        Effect.gen(function* () {
          const handle = yield* RedisTestServer
          yield* withClient({ ...FAULT_ENV, REDIS_URL: handle.urlFor(reader.name) }, (redis) =>
            Effect.gen(function* () {
              yield* redis.awaitReady(10_000)
              assert.strictEqual(yield* failureTag(redis.run("DEL", (c) => c.del(key("x")))), "PermissionDenied")
            })
          )
        })
      )

      it.effect("a wrong password never connects and health names WRONGPASS; no secret in the target", () =>
        Effect.gen(function* () {
          const handle = yield* RedisTestServer
          const env = {
            ...FAULT_ENV,
            REDIS_URL: `redis://127.0.0.1:${handle.port}`,
            REDIS_USERNAME: reader.name,
            REDIS_PASSWORD: "not-the-password"
          }
          yield* withClient(env, (redis) =>
            Effect.gen(function* () {
              assert.strictEqual((yield* Effect.flip(redis.awaitReady(1500)))._tag, "RedisUnavailable")
              const health = yield* redis.health
              assert.match(health.lastError ?? "", /WRONGPASS/)
              assert.notInclude(JSON.stringify(health), "not-the-password")
            })
          )
        })
      )
    }
  )
})
