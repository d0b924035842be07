/**
 * docs/tools.md is generated from the tool definitions: it must match what the
 * generator produces from the code as it is now.
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { renderToolsDoc, TOOLS_DOC_PATH } from "../../src/docs/generate.ts"
import { listEntry } from "../../src/mcp/Registry.ts"
import { allTools } from "../../src/tools/index.ts"

describe("docs/tools.md", () => {
  it("is up to date with the tool definitions (run `npm run docs` if not)", () => {
    const onDisk = readFileSync(TOOLS_DOC_PATH, "utf8")
    const fresh = renderToolsDoc()
    if (onDisk !== fresh) {
      const a = onDisk.split("\n")
      const b = fresh.split("\n")
      const line = a.findIndex((l, i) => l !== b[i])
      assert.fail(
        `docs/tools.md is stale: run \`npm run docs\`. First difference at line ${line + 1}:\n` +
          `  on disk:   ${a[line] ?? "(end of file)"}\n  generated: ${b[line] ?? "(end of file)"}`
      )
    }
  })

  it("documents every tool with its title and the exact schemas tools/list serves", () => {
    const doc = renderToolsDoc()
    for (const tool of allTools) {
      const entry = listEntry(tool)
      assert.include(doc, `### \`${tool.name}\``)
      assert.include(doc, `**${entry.title}**`)
      assert.include(doc, JSON.stringify(entry.inputSchema, null, 2))
      assert.include(doc, JSON.stringify(entry.outputSchema, null, 2))
    }
  })

  it("is deterministic", () => {
    assert.strictEqual(renderToolsDoc(), renderToolsDoc())
  })
})
