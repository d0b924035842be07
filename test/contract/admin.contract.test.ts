import { assert } from "@effect/vitest"
import { Effect } from "effect"
import { Admin } from "../../src/services/Admin.ts"
import { onMemory, onRedis, runContract } from "./layers.ts"

runContract("Admin contract", onMemory(Admin.layerMemory), onRedis(Admin.layer), (it) => {
  it.effect("ping answers PONG, or echoes the message", () =>
    Effect.gen(function* () {
      const admin = yield* Admin
      assert.strictEqual((yield* admin.ping()).pong, "PONG")
      assert.strictEqual((yield* admin.ping("hello")).pong, "hello")
    })
  )
  it.effect("health reports a usable connection", () =>
    Effect.gen(function* () {
      const health = yield* (yield* Admin).health
      assert.include(["ready", "memory"], health.state)
      assert.isNull(health.lastError)
    })
  )
})
