/**
 * The audit line: the contract's fields for a write, a denied call and an auth failure, bounds
 * on every name list and string, and the property that nothing outside the allow-list (values,
 * payloads, tokens, passwords, error messages) ever reaches a line.
 */
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { authFailureEvent, callEvent, type FinishedCall } from "../../src/mcp/audit/AuditEvents.ts"
import { MAX_NAME_CHARS, MAX_NAMES, toLine } from "../../src/mcp/audit/AuditLine.ts"

const T = Date.UTC(2026, 0, 2, 3, 4, 5, 678)
const http = { transport: "http", keyPrefix: "" } as const
const CONTRACT = ["time", "event", "principal", "role", "tool", "keys", "outcome", "durationMs", "requestId"]

const write: FinishedCall = {
  tool: "set",
  readOnly: false,
  touches: { keys: ["app:user:1"] },
  principal: "token:ci-bot",
  role: "writer",
  method: "token",
  outcome: "ok",
  durationMs: 1.23456,
  requestId: 7
}

describe("audit line", () => {
  it("a write call: the contract's fields first, in order, then the extras", () => {
    const line = toLine(callEvent(write)!, T, http)
    const parsed = JSON.parse(line)
    assert.deepStrictEqual(Object.keys(parsed).slice(0, CONTRACT.length), CONTRACT)
    assert.deepStrictEqual(parsed, {
      time: "2026-01-02T03:04:05.678Z",
      event: "call",
      principal: "token:ci-bot",
      role: "writer",
      tool: "set",
      keys: ["app:user:1"],
      outcome: "ok",
      durationMs: 1.235,
      requestId: 7,
      method: "token",
      transport: "http"
    })
    assert.notInclude(line, "\n")
  })

  it("a read that ran is not audited; a read refused is, as denied with its reason", () => {
    const read = { ...write, tool: "get", readOnly: true }
    assert.isUndefined(callEvent(read))
    const refused = JSON.parse(
      toLine(callEvent({ ...read, outcome: "PermissionDenied", refusedBy: "key_pattern" })!, T, http)
    )
    assert.strictEqual(refused.event, "denied")
    assert.strictEqual(refused.reason, "key_pattern")
    assert.strictEqual(refused.outcome, "PermissionDenied")
    assert.deepStrictEqual(refused.keys, ["app:user:1"])
  })

  it("a write refused inside its handler is denied, with the reason its tag implies", () => {
    const ro = JSON.parse(toLine(callEvent({ ...write, outcome: "ReadOnlyMode" })!, T, http))
    assert.deepStrictEqual([ro.event, ro.reason], ["denied", "read_only"])
    const limit = JSON.parse(toLine(callEvent({ ...write, outcome: "LimitExceeded" })!, T, http))
    assert.deepStrictEqual([limit.event, limit.reason], ["denied", "limits"])
    const reasonOf = (rule?: unknown) =>
      JSON.parse(toLine(callEvent({ ...write, outcome: "PermissionDenied", rule })!, T, http)).reason
    assert.deepStrictEqual(
      [reasonOf("key_pattern"), reasonOf("deny_list"), reasonOf(), reasonOf("made-up")],
      ["key_pattern", "deny_list", "permission", "permission"]
    )
    const failed = JSON.parse(toLine(callEvent({ ...write, outcome: "WrongType" })!, T, http))
    assert.deepStrictEqual([failed.event, failed.outcome, failed.reason], ["call", "WrongType", undefined])
  })

  it("an auth failure: the reason only, nulls where nobody is known", () => {
    const parsed = JSON.parse(
      toLine(authFailureEvent({ reason: "unknown_token" }, { remoteAddress: "127.0.0.1" }), T, http)
    )
    assert.deepStrictEqual(parsed, {
      time: "2026-01-02T03:04:05.678Z",
      event: "auth_failure",
      principal: null,
      role: null,
      tool: null,
      keys: [],
      outcome: "refused",
      durationMs: null,
      requestId: null,
      reason: "unknown_token",
      remoteAddress: "127.0.0.1",
      transport: "http"
    })
  })

  it("logical key names, with the server's prefix beside them", () => {
    const parsed = JSON.parse(toLine(callEvent(write)!, T, { transport: "stdio", keyPrefix: "agents:" }))
    assert.deepStrictEqual(parsed.keys, ["app:user:1"])
    assert.strictEqual(parsed.keyPrefix, "agents:")
    assert.strictEqual(parsed.transport, "stdio")
  })

  it("bounds every list and string, whatever the call sent", () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `${i}:${"k".repeat(10_000)}`)
    const line = toLine(
      callEvent({
        ...write,
        tool: "t".repeat(10_000),
        principal: "p".repeat(10_000),
        requestId: "r".repeat(10_000),
        touches: { keys, queues: keys, channels: keys, namespaces: keys }
      })!,
      T,
      http
    )
    const parsed = JSON.parse(line)
    assert.strictEqual(parsed.keys.length, MAX_NAMES)
    assert.strictEqual(parsed.keysTotal, 5000)
    assert.strictEqual(parsed.queuesTotal, 5000)
    for (const k of [...parsed.keys, ...parsed.queues, ...parsed.channels, ...parsed.namespaces]) {
      assert.isAtMost(k.length, MAX_NAME_CHARS + 1)
    }
    assert.isBelow(line.length, 24_000)
  })

  it("control characters and quotes in names cannot break the line", () => {
    const line = toLine(callEvent({ ...write, touches: { keys: ['a"\n{"event":"call"}\r\u2028'] } })!, T, http)
    assert.notInclude(line, "\n")
    assert.notInclude(line, "\r")
    assert.deepStrictEqual(JSON.parse(line).keys, ['a"\n{"event":"call"}\r\u2028'])
  })
})

const Secret = Schema.String.check(Schema.isMinLength(6))
const Name = Schema.String.check(Schema.isMaxLength(40))

describe("audit line (property)", () => {
  it.prop(
    "no value, payload, token, password or message sent with a call ever reaches its line",
    {
      value: Secret,
      payload: Secret,
      token: Secret,
      password: Secret,
      message: Secret,
      key: Name,
      principal: Name,
      role: Name,
      tool: Name
    },
    ({ value, payload, token, password, message, key, principal, role, tool }) => {
      const clean: FinishedCall = {
        tool,
        readOnly: false,
        touches: { keys: [key] },
        principal,
        role,
        outcome: "ok",
        durationMs: 2,
        requestId: "1"
      }
      // Everything a call carries besides the allow-listed fields: what a careless caller might pass.
      const dirty = {
        ...clean,
        touches: { keys: [key], value, payload },
        arguments: { key, value, payload: { nested: payload } },
        args: { value },
        value,
        payload,
        token,
        authorization: `Bearer ${token}`,
        password,
        redisPassword: password,
        message,
        error: { tag: "WrongType", message }
      }
      const failure = { reason: "unknown_token" as const, message, detail: `${token} ${password}`, token }
      const lines = [
        [toLine(callEvent(clean)!, T, http), toLine(callEvent(dirty)!, T, http)],
        [
          toLine(callEvent({ ...clean, outcome: "PermissionDenied", refusedBy: "key_pattern" })!, T, http),
          toLine(callEvent({ ...dirty, outcome: "PermissionDenied", refusedBy: "key_pattern" })!, T, http)
        ],
        [toLine(authFailureEvent({ reason: "unknown_token" }), T, http), toLine(authFailureEvent(failure), T, http)]
      ] as const
      for (const [expected, actual] of lines) {
        // The extra fields change nothing: the line is built from the allow-list alone.
        assert.strictEqual(actual, expected)
        for (const secret of [value, payload, token, password, message]) {
          // A secret can only appear when the call also sent it as an allowed name (a key, a tool name…).
          if (expected.includes(secret) || expected.includes(JSON.stringify(secret).slice(1, -1))) continue
          assert.notInclude(actual, secret)
          assert.notInclude(actual, JSON.stringify(secret).slice(1, -1))
        }
      }
    }
  )
})
