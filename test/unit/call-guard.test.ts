/**
 * CallGuard: a role's checks on what one call touches, before its handler runs. Exact names
 * against the glob lists, patterns only when surely covered, server-wide reads refused to a role
 * that scopes names, and raw commands name by name from the command key specs (the in-memory
 * table here; the real one is checked end to end in test/e2e/http-roles.e2e.test.ts).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { checkCall } from "../../src/mcp/auth/CallGuard.ts"
import { makeRole, type RoleSpec } from "../../src/mcp/auth/Role.ts"
import { CommandKeys } from "../../src/services/CommandKeys.ts"
import type { Touches } from "../../src/tools/Tool.ts"

const role = (spec: Partial<RoleSpec>) => makeRole("r", { toolsets: ["keys"], ...spec })

/** undefined when allowed, else the refusal's message. */
const verdict = (spec: Partial<RoleSpec> | undefined, touches: Touches) =>
  Effect.gen(function* () {
    const exit = yield* checkCall(spec === undefined ? undefined : role(spec), touches).pipe(Effect.exit)
    if (Exit.isSuccess(exit)) return undefined
    const error = exit.cause.reasons.find((r) => r._tag === "Fail")?.error
    assert.strictEqual(error?._tag, "PermissionDenied")
    return error!.message
  }).pipe(Effect.provide(CommandKeys.layerMemory))

describe("checkCall", () => {
  it.effect("no role, or a role without lists, allows everything", () =>
    Effect.gen(function* () {
      const everything: Touches = {
        keys: ["a"],
        keyPatterns: ["*"],
        commands: [["FLUSHDB"]],
        serverWide: true,
        channelPatterns: ["*"]
      }
      assert.isUndefined(yield* verdict(undefined, everything))
      assert.isUndefined(yield* verdict({}, everything))
    })
  )

  it.effect("exact names must match; every one counts", () =>
    Effect.gen(function* () {
      const scoped = { keys: ["app:*"], channels: ["app.*"], queues: ["build-*"], namespaces: ["build"] }
      assert.isUndefined(yield* verdict(scoped, { keys: ["app:a", "app:b"], queues: ["build-1"] }))
      assert.match((yield* verdict(scoped, { keys: ["app:a", "other", "app:b"] }))!, /may not touch key "other"/)
      assert.match((yield* verdict(scoped, { channels: ["ops"] }))!, /channel "ops"/)
      assert.match((yield* verdict(scoped, { queues: ["deploy"] }))!, /queue "deploy"/)
      assert.match((yield* verdict(scoped, { namespaces: ["lock:x"] }))!, /namespace "lock:x"/)
      // A list that is absent allows all of its kind; an empty one allows none.
      assert.isUndefined(yield* verdict({ keys: ["app:*"] }, { channels: ["anything"] }))
      assert.match((yield* verdict({ channels: [] }, { channels: ["a"] }))!, /patterns: none/)
    })
  )

  it.effect("patterns pass only when every name they can match is inside the role", () =>
    Effect.gen(function* () {
      const scoped = { keys: ["app:*"], channels: ["app.*"] }
      assert.isUndefined(yield* verdict(scoped, { keyPatterns: ["app:*"], channelPatterns: ["app.news.*"] }))
      assert.match((yield* verdict(scoped, { keyPatterns: ["*"] }))!, /every key matching pattern "\*"/)
      assert.match((yield* verdict(scoped, { keyPatterns: ["ap*"] }))!, /pattern "ap\*"/)
      assert.match((yield* verdict(scoped, { channelPatterns: ["app*"] }))!, /channel matching/)
      // A channel named exactly is matched as a name, not read as a pattern: "app.[x]" is not "app.x".
      assert.isUndefined(yield* verdict({ channels: ["app.*"] }, { channels: ["app.[x]"] }))
      assert.match((yield* verdict({ channels: ["app.x"] }, { channels: ["app.[x]"] }))!, /channel "app\.\[x\]"/)
    })
  )

  it.effect("a server-wide read is refused to a role that scopes keys, queues or namespaces", () =>
    Effect.gen(function* () {
      for (const spec of [{ keys: ["a*"] }, { queues: ["q"] }, { namespaces: ["n"] }]) {
        assert.match((yield* verdict(spec, { serverWide: true }))!, /whole server/, JSON.stringify(spec))
      }
      assert.isUndefined(yield* verdict({ channels: ["c"] }, { serverWide: true }))
    })
  )

  it.effect("raw commands: their keys from the key specs; keys they cannot name are refused to a scoped role", () =>
    Effect.gen(function* () {
      const scoped = { keys: ["app:*"] }
      assert.isUndefined(
        yield* verdict(scoped, {
          commands: [
            ["MSET", "app:a", "1", "app:b", "2"],
            ["GET", "app:a"]
          ]
        })
      )
      assert.match(
        (yield* verdict(scoped, {
          commands: [
            ["GET", "app:a"],
            ["MGET", "app:a", "x"]
          ]
        }))!,
        /key "x"/
      )
      for (const command of [
        ["SCAN", "0"],
        ["DBSIZE"],
        ["FLUSHDB"],
        ["EVAL", "return 1", "0"],
        ["SORT", "app:l", "BY", "w_*"]
      ]) {
        assert.match((yield* verdict(scoped, { commands: [command] }))!, /may not run/, command.join(" "))
      }
      // Without key lists the same commands are the command policy's business, not the role's.
      assert.isUndefined(yield* verdict({ channels: ["c"] }, { commands: [["DBSIZE"]] }))
      assert.match((yield* verdict({ channels: ["c"] }, { commands: [["EVAL", "return 1", "0"]] }))!, /its channels/)
    })
  )

  it.effect("a role scoping queues or namespaces reaches no task or state key through raw commands", () =>
    Effect.gen(function* () {
      assert.match(
        (yield* verdict({ queues: ["mine"] }, { commands: [["GET", "task:{other}:meta"]] }))!,
        /belong to its queues/
      )
      assert.match(
        (yield* verdict({ namespaces: ["mine"] }, { commands: [["DEL", "state:{other}:doc"]] }))!,
        /belong to its namespaces/
      )
      assert.isUndefined(yield* verdict({ queues: ["mine"] }, { commands: [["GET", "plain"]] }))
      assert.isUndefined(yield* verdict({ queues: ["mine"] }, { commands: [["GET", "state:x"]] }))
    })
  )
})
