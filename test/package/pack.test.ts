/**
 * The package as a user gets it: `npm pack` from a fresh checkout (no dist/;
 * `prepack` builds it), what the tarball holds, and the tarball installed with
 * `npm install <tgz>` into an empty prefix, its bin answering --version and
 * tools/list. Runs in a copy of the checkout, so this repository's dist/ (which
 * other tests are running) is never touched.
 */
import { execFileSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { delimiter, dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { listToolsOnce, spawnRaw, within } from "../protocol/raw.ts"

const ROOT = fileURLToPath(new URL("../../", import.meta.url))
const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string
const scratch = mkdtempSync(join(tmpdir(), "erm-pack-"))
const checkout = join(scratch, "checkout")
const prefix = join(scratch, "prefix")
/** This Node first on PATH, so the bin's `#!/usr/bin/env node` runs on it. */
const PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`

const run = (command: string, args: ReadonlyArray<string>, cwd: string): string =>
  execFileSync(command, [...args], { cwd, encoding: "utf8", env: { ...process.env, PATH }, stdio: "pipe" })

/** The checkout's files as git sees them (committed or not, ignored ones left out), node_modules linked. */
const copyCheckout = () => {
  const files = run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT)
    .split("\0")
    .filter((f) => f !== "" && existsSync(join(ROOT, f)))
  for (const file of files) {
    mkdirSync(dirname(join(checkout, file)), { recursive: true })
    cpSync(join(ROOT, file), join(checkout, file))
  }
  symlinkSync(join(ROOT, "node_modules"), join(checkout, "node_modules"))
}

let tarball = ""
let contents: ReadonlyArray<string> = []
beforeAll(() => {
  copyCheckout()
  assert.isFalse(existsSync(join(checkout, "dist")), "a fresh checkout has no dist/")
  run("npm", ["pack", "--pack-destination", scratch, "--loglevel", "error"], checkout)
  tarball = join(scratch, `effect-redis-mcp-${VERSION}.tgz`)
  contents = run("tar", ["-tzf", tarball], scratch)
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.replace(/^package\//, ""))
}, 240_000)
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe("npm pack", () => {
  it("builds dist/ and packs the server, the library with its types, the docs, deploy files and the licence", () => {
    for (const file of [
      "package.json",
      "LICENSE",
      "README.md",
      "CHANGELOG.md",
      "dist/main.js",
      "dist/index.js",
      "dist/index.d.ts",
      "docs/admin-guide.md",
      "deploy/systemd/effect-redis-mcp.service"
    ]) {
      assert.include(contents, file)
    }
    assert.isTrue(
      contents.some((f) => /^dist\/chunks\/program-[A-Z0-9]+\.js$/.test(f)),
      "the bundled program"
    )
  })

  it("packs nothing only development needs: no sources, tests, scripts, bench, docs generator or test files", () => {
    const extra = contents.filter(
      (f) =>
        /^(src|test|bench|scripts|\.ci|node_modules)\//.test(f) ||
        f.startsWith("dist/docs/") ||
        /\.test\.[a-z]+$/.test(f) ||
        /^(tsconfig.*|biome|vitest\.config)\./.test(f)
    )
    assert.deepStrictEqual(extra, [])
  })
})

describe("the packed tarball, installed", () => {
  beforeAll(() => {
    mkdirSync(prefix)
    run(
      "npm",
      ["install", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel", "error", tarball],
      scratch
    )
  }, 240_000)
  const bin = () => join(prefix, "node_modules", ".bin", "effect-redis-mcp")

  it("its bin prints the version", async () => {
    const raw = spawnRaw(["--version"], { PATH }, [bin()])
    assert.strictEqual((await within(raw.exited, 15_000, "exit")).code, 0, raw.stderr())
    assert.deepStrictEqual(raw.stdoutLines, [VERSION])
  })

  it("its bin serves tools/list over stdio", async () => {
    assert.isAbove(await listToolsOnce(spawnRaw([], { PATH }, [bin()])), 0)
  })

  it("installs one copy of effect and no Redis client besides ioredis", () => {
    const paths = readdirSync(join(prefix, "node_modules"), { recursive: true, encoding: "utf8" })
    const copiesOf = (name: string) => paths.filter((p) => p === name || p.endsWith(`/node_modules/${name}`))
    assert.deepStrictEqual(copiesOf("effect"), ["effect"])
    assert.deepStrictEqual(copiesOf("redis"), [])
    assert.deepStrictEqual(copiesOf("@redis"), [])
  })
})
