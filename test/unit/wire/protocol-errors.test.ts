/**
 * Issue 9 item 8 on the stdio wire: every line that is not a message MCP can
 * serve gets its JSON-RPC error (-32700 / -32600 / -32602, id per JSON-RPC 2.0
 * §5), malformed notifications and responses are dropped, not answered, every
 * rejected line is logged, and the session keeps serving. Each case is followed
 * by a `ping` whose answer must come after the error (or with nothing before it).
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import { call, type Harness, start } from "./harness.ts"

let h: Harness
afterEach(async () => {
  await h.handle.close()
})

/** Sends `line`, then a ping; returns what was written before the ping's answer. */
const answersBefore = async (line: string, pingId: string): Promise<Array<any>> => {
  h.send(line)
  const seen = await h.ping(pingId)
  assert.deepStrictEqual(seen.at(-1)?.result, {}, "the session still answers")
  return seen.slice(0, -1)
}

const expectError = async (line: string, code: number, id: string | number | null, mentions?: RegExp) => {
  const seen = await answersBefore(line, `after ${line.slice(0, 40)}`)
  assert.strictEqual(seen.length, 1, `one answer for ${line}`)
  const [reply] = seen
  assert.strictEqual(reply.jsonrpc, "2.0")
  assert.strictEqual(reply.id, id, `id of the answer to ${line}`)
  assert.strictEqual(reply.error.code, code, `${line} → ${reply.error.message}`)
  if (mentions) assert.match(reply.error.message, mentions)
}

describe("parse errors (-32700, id null)", () => {
  it("malformed JSON", async () => {
    h = start()
    await h.open()
    for (const line of ['{"jsonrpc":"2.0","id":1,"method":', "not json", "{'single':'quotes'}", '{"a":1} trailing']) {
      await expectError(line, -32700, null, /^Parse error/)
    }
  })

  it("bytes that are not UTF-8", async () => {
    h = start()
    await h.open()
    h.input.write(
      Buffer.concat([
        Buffer.from('{"jsonrpc":"2.0","id":1,"method":"ping","x":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}\n')
      ])
    )
    const seen = await h.ping("p")
    assert.strictEqual(seen.length, 2)
    assert.deepStrictEqual(seen[0].error.code, -32700)
    assert.match(seen[0].error.message, /UTF-8/)
  })
})

describe("invalid requests (-32600)", () => {
  it("a message that is not an object: id null", async () => {
    h = start()
    await h.open()
    for (const line of ["42", '"ping"', "null", "true"]) await expectError(line, -32600, null, /JSON object/)
  })

  it("missing or wrong jsonrpc: the valid id is echoed", async () => {
    h = start()
    await h.open()
    await expectError('{"id":7,"method":"ping"}', -32600, 7, /jsonrpc/)
    await expectError('{"jsonrpc":"1.0","id":"seven","method":"ping"}', -32600, "seven", /jsonrpc/)
    await expectError('{"jsonrpc":2,"id":8,"method":"ping"}', -32600, 8, /jsonrpc/)
  })

  it("method missing or not a string", async () => {
    h = start()
    await h.open()
    await expectError('{"jsonrpc":"2.0","id":3,"method":42}', -32600, 3, /method/)
    await expectError('{"jsonrpc":"2.0","id":4}', -32600, 4, /method/)
    await expectError('{"jsonrpc":"2.0","method":1,"params":"bar"}', -32600, null, /method/)
    await expectError("{}", -32600, null, /method/)
  })

  it("ids that are null, float, object, bool, array or beyond 2^53: id null", async () => {
    h = start()
    await h.open()
    for (const id of ["null", "1.5", '{"a":1}', "true", "[1]", "9007199254740993"]) {
      await expectError(`{"jsonrpc":"2.0","id":${id},"method":"ping"}`, -32600, null, /"id"/)
    }
  })

  it("params that are not an object or an array", async () => {
    h = start()
    await h.open()
    await expectError('{"jsonrpc":"2.0","id":5,"method":"tools/list","params":"x"}', -32600, 5, /params/)
    await expectError('{"jsonrpc":"2.0","id":6,"method":"tools/list","params":42}', -32600, 6, /params/)
    await expectError('{"jsonrpc":"2.0","id":"n","method":"tools/list","params":null}', -32600, "n", /params/)
  })

  it("positional params: -32602, MCP methods take an object", async () => {
    h = start()
    await h.open()
    await expectError('{"jsonrpc":"2.0","id":9,"method":"tools/list","params":[]}', -32602, 9, /named params/)
  })

  it("members JSON-RPC does not define, or a malformed _meta", async () => {
    h = start()
    await h.open()
    await expectError('{"jsonrpc":"2.0","id":10,"method":"ping","extra":true}', -32600, 10, /extra/)
    await expectError('{"jsonrpc":"2.0","id":11,"method":"ping","result":{}}', -32600, 11, /result/)
    await expectError('{"jsonrpc":"2.0","id":12,"method":"ping","params":{"_meta":[]}}', -32600, 12, /_meta/)
    await expectError(
      '{"jsonrpc":"2.0","id":13,"method":"ping","params":{"_meta":{"progressToken":1.5}}}',
      -32600,
      13,
      /_meta/
    )
  })

  it("batch arrays: one error, id null, saying batches are not supported", async () => {
    h = start()
    await h.open()
    const ping = (id: number) => ({ jsonrpc: "2.0", id, method: "ping" })
    await expectError(JSON.stringify([ping(20), ping(21)]), -32600, null, /batch/)
    await expectError("[]", -32600, null, /batch/)
    await expectError(JSON.stringify([call(22, "echo")]), -32600, null, /batch/)
  })
})

describe("what is not answered", () => {
  it("malformed notifications are dropped and logged, never answered", async () => {
    h = start()
    await h.open()
    for (const line of [
      '{"jsonrpc":"1.0","method":"notifications/initialized"}',
      '{"method":"notifications/initialized"}',
      '{"jsonrpc":"2.0","method":"notifications/cancelled","params":"x"}',
      '{"jsonrpc":"2.0","method":"notifications/progress","params":[1]}',
      '{"jsonrpc":"2.0","method":"notifications/initialized","extra":1}'
    ]) {
      const seen = await answersBefore(line, `after ${line}`)
      assert.deepStrictEqual(seen, [], `nothing answers ${line}`)
    }
    const dropped = h.logs.filter((l) => l.message === "stdin line dropped")
    assert.strictEqual(dropped.length, 5)
    for (const l of dropped) assert.strictEqual(l.level, "Warn")
  })

  it("responses: a well-formed one reaches the SDK, a malformed one is dropped", async () => {
    h = start()
    await h.open()
    assert.deepStrictEqual(await answersBefore('{"jsonrpc":"2.0","id":99,"result":{}}', "r1"), [])
    assert.deepStrictEqual(await answersBefore('{"jsonrpc":"2.0","id":99,"result":"x"}', "r2"), [])
    assert.deepStrictEqual(await answersBefore('{"jsonrpc":"2.0","error":{"code":"x"}}', "r3"), [])
    const dropped = h.logs.filter((l) => l.message === "stdin line dropped")
    assert.strictEqual(dropped.length, 2, "the two malformed responses")
  })
})

describe("valid traffic", () => {
  it("passes untouched, CRLF or not, many lines to a chunk, around blank and rejected ones", async () => {
    h = start()
    await h.open()
    const args = { text: "é ✓ \u0000 \ud83d\ude00", nested: { deep: [1, 2.5, null, true] }, big: 2 ** 53 - 1 }
    h.input.write(
      `${JSON.stringify(call("a", "echo", args))}\r\n` +
        "\n   \r\n" +
        "garbage\n" +
        `${JSON.stringify({ jsonrpc: "2.0", id: "b", method: "tools/call", params: { name: "echo", arguments: args, _meta: { progressToken: "t", custom: { x: 1 } } } })}\n`
    )
    const seen = [...(await h.until("a")), ...(await h.until("b"))].filter((l) => l.id !== null)
    assert.deepStrictEqual(
      seen.map((l) => [l.id, JSON.parse(l.result.content[0].text)]),
      [
        ["a", args],
        ["b", args]
      ]
    )
    const warned = h.logs.filter((l) => l.level === "Warn")
    assert.deepStrictEqual(
      warned.map((l) => [l.message, l.fields.line]),
      [["stdin line rejected", "garbage"]],
      "blank lines are skipped silently"
    )
  })

  it("logs a rejected line at warn with at most ~200 characters of it", async () => {
    h = start()
    await h.open()
    const line = `{"jsonrpc":"2.0","id":1.5,"method":"ping","params":{"pad":"${"x".repeat(10_000)}"}}`
    await expectError(line, -32600, null)
    const [logged] = h.logs.filter((l) => l.message === "stdin line rejected")
    assert.strictEqual(logged?.level, "Warn")
    assert.strictEqual(logged?.fields.code, -32600)
    assert.strictEqual(logged?.fields.bytes, line.length)
    assert.isAtMost(String(logged?.fields.line).length, 201)
    assert.isTrue(line.startsWith(String(logged?.fields.line).slice(0, 200)))
  })
})
