/**
 * The RedisClient with Redis ACL users on a real redis-server: credentials from
 * the URL or from REDIS_USERNAME/REDIS_PASSWORD (which win over the URL's, each
 * on its own), NOPERM as PermissionDenied, WRONGPASS in health.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { RedisClient } from "../../src/layers/RedisClient.ts"
import { RedisTestServer } from "../support/effect.ts"
import { FAULT_ENV, failureTag, uniqueKey as key, noHang, onServer, TIMEOUT_MS, withClient } from "./redis-env.ts"

/** Which ACL user the client's connection is logged in as. */
const whoami = Effect.flatMap(RedisClient, (redis) =>
  redis.run("ACL WHOAMI", (c) => c.call("ACL", "WHOAMI") as Promise<string>, { idempotent: true })
)

describe("RedisClient with ACL users", () => {
  const reader = { name: "reader", password: "r3ad-only", rules: "~* &* +@read +@connection +info +acl|whoami" }
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
              const denied = yield* noHang(
                Effect.flip(redis.run("SET", (c) => c.set(key("w"), "v"))),
                TIMEOUT_MS + 1500
              )
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

      it.effect("REDIS_USERNAME and REDIS_PASSWORD win over the URL's credentials, each on its own", () =>
        Effect.gen(function* () {
          const handle = yield* RedisTestServer
          const loggedInAs = (env: Record<string, string>) =>
            withClient({ ...FAULT_ENV, ...env }, (redis) =>
              redis.awaitReady(10_000).pipe(Effect.andThen(whoami.pipe(Effect.provideService(RedisClient, redis))))
            )
          // A wrong password in the URL, the right one in REDIS_PASSWORD: the setting is used.
          assert.strictEqual(
            yield* loggedInAs({
              REDIS_URL: `redis://${reader.name}:wrong@127.0.0.1:${handle.port}`,
              REDIS_PASSWORD: reader.password
            }),
            reader.name
          )
          // The URL logs in as the default user; REDIS_USERNAME/REDIS_PASSWORD name another.
          assert.strictEqual(
            yield* loggedInAs({
              REDIS_URL: handle.url,
              REDIS_USERNAME: reader.name,
              REDIS_PASSWORD: reader.password
            }),
            reader.name
          )
          // Only the user name given as a setting: the URL's password still applies to it.
          assert.strictEqual(
            yield* loggedInAs({
              REDIS_URL: `redis://nobody:${reader.password}@127.0.0.1:${handle.port}`,
              REDIS_USERNAME: reader.name
            }),
            reader.name
          )
          // Nothing set: the URL's credentials.
          assert.strictEqual(yield* loggedInAs({ REDIS_URL: handle.urlFor(reader.name) }), reader.name)
          assert.strictEqual(yield* loggedInAs({ REDIS_URL: handle.url }), "default")
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
