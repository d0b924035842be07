/**
 * Issue 9 item 9 on the stdio wire: when stdin ends, requests already received
 * still run and their answers are written before the wire closes; the wait is
 * bounded by the drain timeout; a broken stdout closes at once without a crash.
 */
import { once } from "node:events"
import { afterEach, assert, describe, it } from "@effect/vitest"
import type { StdioWire } from "../../../src/mcp/StdioWire.ts"
import { call, type Harness, start } from "./harness.ts"

let h: Harness
afterEach(async () => {
  await h.handle.close()
})

const wireOf = (x: Harness) => x.transport as StdioWire

describe("stdin EOF with requests in flight", () => {
  it("the in-flight call finishes and its answer is written before the wire closes", async () => {
    h = start({ drainTimeoutMs: 60_000 })
    const ended = once(h.input, "end")
    h.input.end(
      `${JSON.stringify({ jsonrpc: "2.0", id: "init", method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "0" } } })}\n` +
        `${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n` +
        `${JSON.stringify(call("slow call", "slow"))}\n`
    )
    await Promise.all([h.slow.started.promise, ended, h.until("init")])
    assert.strictEqual(wireOf(h).requestsInFlight, 1, "the slow call is still in flight")
    assert.isFalse(h.isClosed(), "stdin ended, but the wire waits for the call")
    const drainLog = h.logs.find((l) => l.message.startsWith("stdin ended"))
    assert.isAtLeast(Number(drainLog?.fields.inFlight), 1)

    h.slow.release.resolve("done")
    const seen = await h.until("slow call")
    assert.deepStrictEqual(seen.at(-1).result.content, [{ type: "text", text: "done" }])
    await h.closed
    await wireOf(h).closed
    assert.isFalse(h.slow.aborted, "the call was never aborted")
    assert.strictEqual(wireOf(h).requestsInFlight, 0)
  })

  it("the last line without a newline still counts, and nothing in flight closes at once", async () => {
    h = start({ drainTimeoutMs: 60_000 })
    await h.open()
    h.input.end(JSON.stringify(call("no newline", "echo", { a: 1 })))
    const seen = await h.until("no newline")
    assert.deepStrictEqual(seen.at(-1).result.content, [{ type: "text", text: '{"a":1}' }])
    await wireOf(h).closed
    assert.isTrue(h.isClosed())
  })

  it("a cancelled request is not waited for", async () => {
    h = start({ drainTimeoutMs: 60_000 })
    await h.open()
    h.sendJson(call("to cancel", "slow"))
    await h.slow.started.promise
    assert.strictEqual(wireOf(h).requestsInFlight, 1)
    h.sendJson({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: "to cancel" } })
    h.input.end()
    await wireOf(h).closed
    assert.strictEqual(wireOf(h).requestsInFlight, 0)
    assert.isTrue(h.slow.aborted)
  })

  it("the drain is bounded: past the timeout the wire closes and the stuck call is aborted", async () => {
    h = start({ drainTimeoutMs: 50 })
    await h.open()
    h.sendJson(call("stuck", "slow"))
    h.sendJson(call("quick", "echo", { q: true }))
    await h.slow.started.promise
    h.input.end()
    const seen = await h.until("quick")
    assert.deepStrictEqual(seen.at(-1).result.content, [{ type: "text", text: '{"q":true}' }])
    await wireOf(h).closed
    assert.isTrue(h.isClosed())
    const timedOut = h.logs.find((l) => l.message.startsWith("drain timed out"))
    assert.strictEqual(timedOut?.level, "Warn")
    assert.deepStrictEqual(timedOut?.fields.ids, ["string:stuck"])
    await h.handle.close()
    assert.isTrue(h.slow.aborted, "serveStdio aborts what is left once the wire closes")
  })
})

describe("stdout breaks", () => {
  it("closes at once, rejects later sends, and a late stdout error does not crash", async () => {
    h = start({ drainTimeoutMs: 60_000 })
    await h.open()
    h.sendJson(call("orphan", "slow"))
    await h.slow.started.promise
    h.output.destroy(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }))
    await wireOf(h).closed
    assert.isTrue(h.isClosed())
    // EPIPE is how a client goes away: logged at debug, not as a fault.
    assert.isTrue(h.logs.some((l) => l.level === "Debug" && l.message === "the client closed stdout; closing"))
    const late = await wireOf(h)
      .send({ jsonrpc: "2.0", id: "late", result: {} })
      .then(
        () => "sent",
        (e: Error) => e.message
      )
    assert.match(late, /closed/)
    h.output.emit("error", new Error("write EPIPE again"))
  })
})
