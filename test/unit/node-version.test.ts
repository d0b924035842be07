/**
 * The launcher's Node check: version comparison, and the minimum it enforces is
 * the one package.json promises.
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { MINIMUM_NODE, nodeIsAtLeast, unsupportedNode } from "../../src/layers/NodeVersion.ts"

describe("Node version check", () => {
  it("compares major, minor and patch numerically", () => {
    for (const ok of ["22.19.0", "22.19.1", "22.20.0", "23.0.0", "24.21.0", "100.0.0"]) {
      assert.isTrue(nodeIsAtLeast(ok), ok)
    }
    for (const old of ["22.18.9", "22.9.0", "20.20.2", "18.0.0", "3.0.0", "0.12.18"]) {
      assert.isFalse(nodeIsAtLeast(old), old)
    }
    assert.isTrue(nodeIsAtLeast("22.19.0-pre", "22.19.0"))
    assert.isFalse(nodeIsAtLeast("9.0.0", "10.0.0"), "numbers, not strings")
  })

  it("the minimum is package.json's engines.node", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"))
    assert.strictEqual(pkg.engines.node, `>=${MINIMUM_NODE}`)
  })

  it("the message names the required version, the one that ran and where it is", () => {
    const message = unsupportedNode("20.20.2", "/usr/bin/node")
    assert.include(message, "22.19.0 or newer is required")
    assert.include(message, "20.20.2")
    assert.include(message, "/usr/bin/node")
    assert.isTrue(message.endsWith("\n"))
  })
})
