/**
 * Writes on the stdio wire: whole newline-terminated messages, in order; what is
 * sent in one turn of the event loop leaves in one `write`; and a slow reader
 * holds the senders back instead of growing stdout's buffer without bound.
 */
import { PassThrough } from "node:stream"
import { assert, describe, it } from "@effect/vitest"
import { makeTransport } from "./harness.ts"

const HIGH_WATER = 16 * 1024
const MESSAGE_TEXT = "m".repeat(10 * 1024)
const COUNT = 100

const settle = () => new Promise((resolve) => setImmediate(resolve))

describe("backpressure", () => {
  it("a reader that does not read holds the senders back; once it reads, every message arrives whole and in order", async () => {
    const input = new PassThrough()
    const output = new PassThrough({ highWaterMark: HIGH_WATER })
    const writes: Array<string> = []
    const write = output.write.bind(output)
    output.write = ((chunk: any, ...rest: Array<any>) => {
      writes.push(String(chunk))
      return write(chunk, ...rest)
    }) as typeof output.write
    const wire = makeTransport(input, output, { log: () => {} })
    await wire.start()

    let sent = 0
    let mostBuffered = 0
    const sends = Array.from({ length: COUNT }, (_, i) =>
      wire.send({ jsonrpc: "2.0", id: i, result: { text: MESSAGE_TEXT } }).then(() => {
        sent++
      })
    )
    for (let i = 0; i < 5; i++) {
      await settle()
      mostBuffered = Math.max(mostBuffered, output.writableLength)
    }
    const oneMessage = JSON.stringify({ jsonrpc: "2.0", id: 99, result: { text: MESSAGE_TEXT } }).length + 1
    assert.isAtMost(
      mostBuffered,
      HIGH_WATER + oneMessage,
      "stdout's buffer stays under the high-water mark + one message"
    )
    assert.isBelow(sent, COUNT / 2, "senders wait while the reader does not read")

    let text = ""
    output.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8")
    })
    await Promise.all(sends)
    await settle()
    assert.strictEqual(sent, COUNT)
    const lines = text.split("\n")
    assert.strictEqual(lines.pop(), "", "the output ends with a newline")
    assert.deepStrictEqual(
      lines.map((l) => JSON.parse(l).id),
      Array.from({ length: COUNT }, (_, i) => i)
    )
    // Each write fits the room under the high-water mark, or is one message: here, one message each.
    assert.strictEqual(writes.length, COUNT, "one write per message when each is most of the room")
    for (const w of writes) assert.isTrue(w.endsWith("\n") && w.indexOf("\n") === w.length - 1)
    await wire.close()
  })
})

describe("coalescing", () => {
  it("messages sent in one turn leave in one write, whole and in order", async () => {
    const input = new PassThrough()
    const output = new PassThrough()
    const writes: Array<string> = []
    const write = output.write.bind(output)
    output.write = ((chunk: any, ...rest: Array<any>) => {
      writes.push(String(chunk))
      return write(chunk, ...rest)
    }) as typeof output.write
    const wire = makeTransport(input, output, { log: () => {} })
    await wire.start()
    const sent = Array.from({ length: 50 }, (_, i) => wire.send({ jsonrpc: "2.0", id: i, result: {} }))
    assert.strictEqual(writes.length, 0, "nothing is written before the end of the turn")
    await Promise.all(sent)
    assert.strictEqual(writes.length, 1)
    assert.deepStrictEqual(
      writes[0]!
        .split("\n")
        .slice(0, -1)
        .map((l) => JSON.parse(l).id),
      Array.from({ length: 50 }, (_, i) => i)
    )
    await wire.close()
  })
})
