/**
 * deploy/effect-redis-mcp.env.example names every setting the server reads, in the
 * syntax systemd's EnvironmentFile= takes; deploy/logrotate rotates the audit file
 * with copytruncate, so the server's open descriptor keeps writing to the live file.
 */
import { spawnSync } from "node:child_process"
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { requireTool, run, useTempDir } from "./tools.ts"

const root = join(import.meta.dirname, "../..")
const envText = readFileSync(join(root, "deploy/effect-redis-mcp.env.example"), "utf8")

/** Every `REDIS_*` name the server's sources mention. */
const settingsInSource = (): ReadonlyArray<string> => {
  const grep = spawnSync("grep", ["-rhoE", '"REDIS_[A-Z0-9_]+"', join(root, "src")], { encoding: "utf8" })
  return [
    ...new Set(
      grep.stdout
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => l.replaceAll('"', ""))
    )
  ].sort()
}

describe("env example", () => {
  it("names every setting the server reads (set or commented out)", () => {
    const named = new Set([...envText.matchAll(/^#?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]))
    const settings = settingsInSource()
    expect(settings.length).toBeGreaterThan(30)
    expect(settings.filter((s) => !named.has(s))).toEqual([])
  })

  it("is plain KEY=value lines and comments, as EnvironmentFile= reads them", () => {
    for (const line of envText.split("\n")) {
      if (line === "" || line.startsWith("#")) continue
      expect(line, line).toMatch(/^[A-Z][A-Z0-9_]*=[^\s"'`$]*$/)
    }
  })
})

describe("logrotate file", () => {
  requireTool("logrotate")
  const tempDir = useTempDir("logrotate-")

  it("rotates the audit file in place while the server keeps appending to it", () => {
    const dir = tempDir()
    const config = readFileSync(join(root, "deploy/logrotate/effect-redis-mcp"), "utf8")
    writeFileSync(join(dir, "conf"), config.replaceAll("/var/log/effect-redis-mcp", dir))
    const audit = join(dir, "audit.log")
    // The server's descriptor: opened once for appending, never reopened.
    const fd = openSync(audit, "a")
    try {
      writeSync(fd, '{"event":"call","n":1}\n')
      const inode = statSync(audit).ino
      const result = run("logrotate", ["--force", "--state", join(dir, "state"), join(dir, "conf")])
      expect(result.status, result.stderr).toBe(0)
      writeSync(fd, '{"event":"call","n":2}\n')
      const rotated = readdirSync(dir).filter((name) => name.startsWith("audit.log-"))
      expect(rotated.length).toBe(1)
      expect(readFileSync(join(dir, rotated[0]!), "utf8")).toBe('{"event":"call","n":1}\n')
      expect(statSync(audit).ino, "same file, truncated in place").toBe(inode)
      expect(readFileSync(audit, "utf8"), "new lines start the live file").toBe('{"event":"call","n":2}\n')
    } finally {
      closeSync(fd)
    }
  })
})
