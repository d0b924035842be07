/**
 * The auth file holder and file tokens end to end: load at start (invalid: a typed error, exit 2
 * for the caller), reload picks up added and removed tokens, an invalid file on reload keeps the
 * previous state, REDIS_MCP_ROLE must name a role of the file.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Authenticator } from "../../src/mcp/auth/Authenticator.ts"
import { AuthStore } from "../../src/mcp/auth/AuthStore.ts"
import { sha256Hex } from "../../src/mcp/auth/Tokens.ts"
import { authDir, authLayers } from "../support/auth.ts"

const roles = {
  reader: { toolsets: ["keys"], readOnly: true, keys: ["app:*"] },
  writer: { toolsets: ["keys", "task"] }
}
const token = (name: string, secret: string, role: string) => ({ name, sha256: sha256Hex(secret), role })

let files: Awaited<ReturnType<typeof authDir>>
beforeAll(async () => {
  files = await authDir()
})
afterAll(() => files.dispose())

describe("AuthStore", () => {
  it.effect("no auth file: empty, and the authenticator is off and refuses every token", () =>
    Effect.gen(function* () {
      const store = yield* AuthStore
      const auth = yield* Authenticator
      assert.strictEqual((yield* store.current).roles.size, 0)
      assert.isFalse(auth.enabled)
      assert.strictEqual((yield* Effect.flip(auth.verify("anything"))).reason, "unknown_token")
      assert.strictEqual((yield* store.reload).tokens.length, 0)
    }).pipe(Effect.provide(authLayers({})))
  )

  it.effect("file tokens: the right principal and role; unknown ones refused", () =>
    Effect.gen(function* () {
      const path = yield* Effect.promise(() =>
        files.write("tokens.json", {
          roles,
          tokens: [token("ci-bot", "s3cret-reader", "reader"), token("w", "s3cret-writer", "writer")]
        })
      )
      const auth = yield* Authenticator.pipe(Effect.provide(authLayers({ REDIS_MCP_AUTH_FILE: path })))
      assert.isTrue(auth.enabled)
      const p = yield* auth.verify("s3cret-reader")
      assert.strictEqual(p.id, "token:ci-bot")
      assert.strictEqual(p.method, "token")
      assert.strictEqual(p.role.name, "reader")
      assert.isTrue(p.role.readOnly)
      assert.strictEqual((yield* auth.verify("s3cret-writer")).role.name, "writer")
      for (const bad of ["s3cret-reade", "s3cret-reader ", "", sha256Hex("s3cret-reader")]) {
        assert.strictEqual((yield* Effect.flip(auth.verify(bad))).reason, "unknown_token", bad)
      }
    })
  )

  it.effect("reload: an added token works, a removed one is refused, no restart", () =>
    Effect.gen(function* () {
      const path = yield* Effect.promise(() =>
        files.write("reload.json", { roles, tokens: [token("a", "token-a", "reader")] })
      )
      yield* Effect.gen(function* () {
        const store = yield* AuthStore
        const auth = yield* Authenticator
        assert.strictEqual((yield* auth.verify("token-a")).id, "token:a")
        yield* Effect.promise(() => files.write("reload.json", { roles, tokens: [token("b", "token-b", "writer")] }))
        assert.strictEqual((yield* auth.verify("token-a")).id, "token:a", "nothing changes before the reload")
        const state = yield* store.reload
        assert.deepStrictEqual(
          state.tokens.map((t) => t.name),
          ["b"]
        )
        assert.strictEqual((yield* Effect.flip(auth.verify("token-a"))).reason, "unknown_token")
        assert.strictEqual((yield* auth.verify("token-b")).role.name, "writer")
      }).pipe(Effect.provide(authLayers({ REDIS_MCP_AUTH_FILE: path })))
    })
  )

  it.effect("reload of an invalid file keeps the previous state and returns the error", () =>
    Effect.gen(function* () {
      const path = yield* Effect.promise(() =>
        files.write("keep.json", { roles, tokens: [token("a", "token-a", "reader")] })
      )
      yield* Effect.gen(function* () {
        const store = yield* AuthStore
        const auth = yield* Authenticator
        const before = yield* store.current
        for (const broken of [
          "{not json",
          { roles: { reader: { toolsets: ["nope"] } } },
          { roles, tokens: [token("a", "x", "ghost")] }
        ]) {
          yield* Effect.promise(() => files.write("keep.json", broken))
          const error = yield* Effect.flip(store.reload)
          assert.strictEqual(error._tag, "AuthFileError")
          assert.include(error.message, "keep.json")
          assert.strictEqual(yield* store.current, before)
          assert.strictEqual((yield* auth.verify("token-a")).id, "token:a")
        }
        yield* Effect.promise(() => files.write("keep.json", { roles, tokens: [] }))
        assert.strictEqual((yield* store.reload).tokens.length, 0)
      }).pipe(Effect.provide(authLayers({ REDIS_MCP_AUTH_FILE: path })))
    })
  )

  it.effect("a role snapshot taken before a reload stays as it was", () =>
    Effect.gen(function* () {
      const path = yield* Effect.promise(() =>
        files.write("snap.json", { roles, tokens: [token("a", "token-a", "writer")] })
      )
      yield* Effect.gen(function* () {
        const store = yield* AuthStore
        const auth = yield* Authenticator
        const inFlight = yield* auth.verify("token-a")
        yield* Effect.promise(() =>
          files.write("snap.json", {
            roles: { ...roles, writer: { toolsets: ["keys"], readOnly: true } },
            tokens: [token("a", "token-a", "writer")]
          })
        )
        yield* store.reload
        assert.isFalse(inFlight.role.readOnly)
        assert.deepStrictEqual(inFlight.role.toolsets, ["keys", "task"])
        assert.isTrue((yield* auth.verify("token-a")).role.readOnly)
      }).pipe(Effect.provide(authLayers({ REDIS_MCP_AUTH_FILE: path })))
    })
  )

  it.effect("an invalid file at start fails the layer with the one-line error", () =>
    Effect.gen(function* () {
      const path = yield* Effect.promise(() =>
        files.write("start.json", { roles: { r: { toolsets: ["keys"], readonly: true } } })
      )
      const error = yield* Effect.flip(Layer.build(authLayers({ REDIS_MCP_AUTH_FILE: path })).pipe(Effect.scoped))
      assert.strictEqual(error._tag, "AuthFileError")
      assert.include(error.message, "roles.r.readonly: unknown field")
    })
  )

  it.effect("REDIS_MCP_ROLE: the stdio session's role, which must exist at start and on reload", () =>
    Effect.gen(function* () {
      const path = yield* Effect.promise(() => files.write("stdio.json", { roles }))
      const role = yield* Effect.gen(function* () {
        const store = yield* AuthStore
        const r = yield* store.sessionRole
        yield* Effect.promise(() => files.write("stdio.json", { roles: { writer: roles.writer } }))
        const error = yield* Effect.flip(store.reload)
        assert.include(error.message, 'REDIS_MCP_ROLE: no role named "reader"')
        assert.strictEqual((yield* store.sessionRole)?.name, "reader")
        return r
      }).pipe(Effect.provide(authLayers({ REDIS_MCP_AUTH_FILE: path, REDIS_MCP_ROLE: "reader" })))
      assert.strictEqual(role?.name, "reader")
      const missing = yield* Effect.flip(
        Layer.build(authLayers({ REDIS_MCP_AUTH_FILE: path, REDIS_MCP_ROLE: "ghost" })).pipe(Effect.scoped)
      )
      assert.include(missing.message, 'REDIS_MCP_ROLE: no role named "ghost"')
      const none = yield* AuthStore.use((s) => s.sessionRole).pipe(
        Effect.provide(authLayers({ REDIS_MCP_AUTH_FILE: path }))
      )
      assert.isUndefined(none)
    })
  )
})
