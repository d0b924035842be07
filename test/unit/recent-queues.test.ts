/**
 * The queues on the depth gauge (RecentQueues): at most `max`, the one that changed
 * longest ago dropped for a new one; queues known from the store fill free places only;
 * counting takes the longest-waiting changed queues first; an idle queue leaves only once
 * counted with nothing unfinished.
 */
import { assert, describe, it } from "@effect/vitest"
import { RecentQueues } from "../../src/services/tasks/RecentQueues.ts"

describe("RecentQueues", () => {
  it("keeps at most max queues, dropping the one that changed longest ago", () => {
    const q = new RecentQueues(2)
    assert.isUndefined(q.changed("a", 1))
    assert.isUndefined(q.changed("b", 2))
    assert.isUndefined(q.changed("a", 3), "a known queue moves, nothing is dropped")
    assert.strictEqual(q.changed("c", 4), "b")
    assert.strictEqual(q.size, 2)
    assert.isTrue(q.has("a") && q.has("c") && !q.has("b"))
  })

  it("queues learnt from the store fill free places and never drop one seen changing", () => {
    const q = new RecentQueues(2)
    q.changed("seen", 1)
    q.learn("stored1", 1)
    q.learn("stored2", 1)
    assert.deepStrictEqual([q.has("seen"), q.has("stored1"), q.has("stored2")], [true, true, false])
    assert.strictEqual(q.changed("new", 2), "seen", "a change drops the oldest, learnt or not")
  })

  it("hands out changed queues, oldest change first, at most the limit; a failed count comes back", () => {
    const q = new RecentQueues(10)
    for (const [i, name] of ["a", "b", "c"].entries()) q.changed(name, i)
    assert.deepStrictEqual(q.dirty(2), ["a", "b"])
    assert.isTrue(q.counted("a", false))
    assert.deepStrictEqual(q.dirty(5), ["b", "c"])
    q.counted("b", false)
    q.counted("c", false)
    assert.deepStrictEqual(q.dirty(5), [])
    q.retry("b")
    assert.deepStrictEqual(q.dirty(5), ["b"])
    q.counted("b", false)
    q.markAllDirty()
    assert.deepStrictEqual(q.dirty(5), ["a", "b", "c"])
    assert.isFalse(q.counted("gone", false), "a queue no longer tracked is not counted")
  })

  it("an idle queue leaves once counted with nothing unfinished; a busy or uncounted one stays", () => {
    const q = new RecentQueues(10)
    q.changed("done", 0)
    q.changed("backlog", 0)
    q.changed("uncounted", 0)
    q.changed("recent", 900)
    q.counted("done", false)
    q.counted("backlog", true)
    q.counted("recent", false)
    assert.deepStrictEqual(q.expire(1000, 500), ["done"])
    assert.isTrue(q.has("backlog") && q.has("uncounted") && q.has("recent"))
    assert.deepStrictEqual(q.expire(1400, 500), ["recent"])
  })
})
