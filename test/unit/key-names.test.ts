/**
 * The name rules the generic data tools share: reserved task/state keys (every
 * key of the task and state layouts is one), well-formed text, and how error
 * messages quote a name.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { clip, quote } from "../../src/Errors.ts"
import { checkKeyName, guardKeys, internalFamily, isWellFormed } from "../../src/services/KeyNames.ts"
import { QUEUES_KEY, queueBase, taskKey } from "../../src/services/tasks/TaskModel.ts"

describe("KeyNames", () => {
  it("every key of the task and state layouts is reserved for its family; ordinary keys are not", () => {
    for (const key of [QUEUES_KEY, queueBase("q"), `${queueBase("q")}:waiting`, taskKey("q", "t1")]) {
      assert.strictEqual(internalFamily(key), "task", key)
    }
    for (const key of ["state:{ns}:doc:k", "state:{ns}:hist:k", "state:{ns}:index", "state:{ns}:expiry"]) {
      assert.strictEqual(internalFamily(key), "state", key)
    }
    for (const key of ["state:lock:{L}", "state:lock:{L}:fence", "state:changes"]) {
      assert.strictEqual(internalFamily(key), "state", key)
    }
    for (const key of ["tasks", "Task:1", "mytask:1", "states:x", "", "user:task:1"]) {
      assert.isUndefined(internalFamily(key), key)
    }
  })

  it("well-formed text: surrogate pairs yes, lone surrogates no", () => {
    assert.isTrue(isWellFormed("😀 é"))
    for (const s of ["\ud800", "\udc00", "a\ud83d", "\ude00b"]) assert.isFalse(isWellFormed(s), JSON.stringify(s))
  })

  it("checkKeyName: InvalidArgument for bad text or length, PermissionDenied for reserved keys", () => {
    const tag = (key: string, max = 16) => {
      const exit = Effect.runSyncExit(checkKeyName(key, max))
      return Exit.isSuccess(exit)
        ? "ok"
        : exit.cause.reasons[0]?._tag === "Fail"
          ? exit.cause.reasons[0].error._tag
          : "?"
    }
    assert.strictEqual(tag("fine"), "ok")
    assert.strictEqual(tag("é".repeat(8)), "ok") // 16 bytes
    assert.strictEqual(tag("é".repeat(9)), "InvalidArgument") // 18 bytes
    assert.strictEqual(tag("\ud800"), "InvalidArgument")
    assert.strictEqual(tag("task:{q}:meta"), "PermissionDenied")
  })

  it("guardKeys checks the keys a call names before running it", () => {
    let ran = 0
    const service = {
      one: (key: string) => Effect.sync(() => ++ran && key),
      two: (a: string, b: string) => Effect.sync(() => ++ran && `${a}${b}`),
      free: (n: number) => Effect.succeed(n)
    }
    const guarded = guardKeys(service, { one: (k) => [k], two: (a, b) => [a, b] }, 100)
    assert.strictEqual(Effect.runSync(guarded.one("k")), "k")
    assert.isTrue(Exit.isFailure(Effect.runSyncExit(guarded.two("ok", "state:x"))))
    assert.strictEqual(ran, 1)
    assert.strictEqual(Effect.runSync(guarded.free(3)), 3)
  })

  it("errors quote at most 200 characters of a name, with its size", () => {
    assert.strictEqual(quote("k"), '"k"')
    const long = "x".repeat(2 * 1024 * 1024)
    assert.isBelow(quote(long).length, 230)
    assert.include(quote(long), "(2097152 bytes)")
    assert.isBelow(clip(long).length, 230)
    assert.strictEqual(clip("short"), "short")
  })
})
