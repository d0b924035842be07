/**
 * The launcher (dist/main.js) as a user meets it: an old Node gets one line and
 * exit code 2 before anything else loads; the bundle needs nothing beside it to
 * serve; Node's compile cache is written next to the package when it can be,
 * and the server starts all the same when it cannot.
 */
import { execFileSync } from "node:child_process"
import { accessSync, constants, cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { delimiter, join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { MINIMUM_NODE, nodeIsAtLeast } from "../../src/layers/NodeVersion.ts"
import { listToolsOnce, MAIN, spawnRaw, within } from "./raw.ts"

const DIST = fileURLToPath(new URL("../../dist/", import.meta.url))
const scratch = mkdtempSync(join(tmpdir(), "erm-launcher-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** A copy of dist/ alone in a fresh directory (no node_modules, no package.json beside it). */
const lonelyDist = (name: string): string => {
  const root = join(scratch, name)
  cpSync(DIST, join(root, "dist"), { recursive: true })
  return root
}

/** The first `node` on PATH outside any node_modules: the one that runs npm here (Node 20 on this machine). */
const systemNode = (): string | undefined =>
  (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => dir !== "" && !dir.includes("node_modules"))
    .map((dir) => join(dir, "node"))
    .find((file) => {
      try {
        accessSync(file, constants.X_OK)
        return true
      } catch {
        return false
      }
    })

describe("the Node version check", () => {
  it("a Node older than the minimum gets one line on stderr naming both versions, exit 2, and nothing on stdout", async () => {
    // This Node, made to report 20.20.2 before the launcher runs.
    const pretend = `data:text/javascript,Object.defineProperty(process,"versions",{value:{...process.versions,node:"20.20.2"}})`
    const raw = spawnRaw(["--version"], {}, [process.execPath, "--import", pretend, MAIN])
    assert.strictEqual((await within(raw.exited, 15_000, "exit")).code, 2)
    assert.strictEqual(
      raw.stderr(),
      `effect-redis-mcp: Node.js ${MINIMUM_NODE} or newer is required, but this is Node.js 20.20.2 (${process.execPath}). ` +
        "Run the server with a current Node.js (22 LTS from 22.19, or 24 LTS).\n"
    )
    assert.deepStrictEqual(raw.stdoutLines, [])
  })

  it("the system's Node (the first on PATH outside node_modules) is refused when too old, and runs the server otherwise", async () => {
    const node = systemNode()
    assert.isDefined(node, "a node on PATH outside node_modules")
    const version = execFileSync(node!, ["-p", "process.versions.node"], { encoding: "utf8" }).trim()
    const raw = spawnRaw(["--version"], {}, [node!, MAIN])
    const { code } = await within(raw.exited, 15_000, "exit")
    if (nodeIsAtLeast(version)) {
      assert.strictEqual(code, 0, raw.stderr())
      assert.strictEqual(raw.stdoutLines.length, 1)
    } else {
      assert.strictEqual(code, 2)
      assert.include(raw.stderr(), `${MINIMUM_NODE} or newer is required, but this is Node.js ${version} (`)
      assert.deepStrictEqual(raw.stdoutLines, [])
    }
  })
})

describe("the bundle", () => {
  it("serves from dist/ alone, and writes Node's compile cache under the package's node_modules/.cache", async () => {
    const root = lonelyDist("alone")
    const main = join(root, "dist", "main.js")
    assert.isAbove(await listToolsOnce(spawnRaw([], {}, [process.execPath, main])), 0)
    const cache = join(root, "node_modules", ".cache", "effect-redis-mcp")
    const entries = readdirSync(cache, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    assert.isAbove(entries.length, 0, "compiled code was cached")
    // A second start reads that cache and serves the same.
    assert.isAbove(await listToolsOnce(spawnRaw([], {}, [process.execPath, main])), 0)
  })

  it("starts all the same when the cache cannot be written (a read-only install)", async () => {
    const root = lonelyDist("read-only")
    // A file where the cache's directory would go: no one, root included, can create it.
    writeFileSync(join(root, "node_modules"), "")
    assert.isAbove(await listToolsOnce(spawnRaw([], {}, [process.execPath, join(root, "dist", "main.js")])), 0)
  })
})
