/**
 * `doctor` against real redis-server processes, through its entry function with the output
 * captured (as `effect-redis-mcp doctor` would print it): a healthy Redis exits 0, an
 * unreachable one 1 with the Redis checks skipped, `protected-mode no` warns, a read-only ACL
 * user with the task toolset fails naming the write commands it lacks, `--json` is one object
 * with every check, invalid configuration exits 2; TLS certificates, eviction policies, a
 * Cluster's slot coverage, the auth file and the OAuth issuer.
 */
import { spawnSync } from "node:child_process"
import { chmodSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { ConfigProvider } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { REDIS_CHECKS } from "../../src/mcp/doctor/Doctor.ts"
import { runDoctor } from "../../src/mcp/doctor/DoctorCommand.ts"
import type { Check, Report } from "../../src/mcp/doctor/Report.ts"
import { authDir, makeKey, startIssuer } from "../support/auth.ts"
import { startCluster } from "../support/cluster.ts"
import { requireRedis } from "../support/env.ts"
import { freePort } from "../support/ports.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"

const run = async (env: Record<string, string>, options: { json?: boolean; aclUser?: string } = {}) => {
  let out = ""
  const code = await runDoctor(
    { json: options.json ?? true, aclUser: options.aclUser },
    ConfigProvider.fromEnvRecord({ REDIS_CONNECT_TIMEOUT_MS: "2000", REDIS_COMMAND_TIMEOUT_MS: "2000", ...env }),
    (text) => {
      out += text
    }
  )
  return { code, out, report: options.json === false ? undefined : (JSON.parse(out) as Report) }
}

const byId = (report: Report | undefined, id: string): Check => {
  const found = report?.checks.find((c) => c.id === id)
  if (found === undefined) throw new Error(`no check ${id}`)
  return found
}

const LOCAL_CHECKS = ["config", "http.auth", "auth.file", "auth.oauth", "toolsets.command", "audit"]
const ALL_CHECKS = [...LOCAL_CHECKS, ...REDIS_CHECKS.map(([id]) => id)]

describe("doctor on a standalone Redis", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  let healthy: RedisHandle
  beforeAll(async () => {
    healthy = await startRedis({
      aof: true,
      config: [
        ["maxmemory", "64mb"],
        ["maxmemory-policy", "noeviction"]
      ],
      aclUsers: [
        {
          name: "ro",
          password: "ro-pw",
          rules: "~* &* -@all +@read +@connection +info +multi +exec +discard +eval +evalsha +subscribe"
        },
        { name: "app", password: "app-pw", rules: "~app:* &app:* +@all -@dangerous +info" },
        // The two users of docs/admin/connection.md, verbatim.
        { name: "mcp", password: "s3cret", rules: "~* &* +@all -@dangerous +info" },
        {
          name: "mcp_ro",
          password: "r3ad",
          rules: "~* &* -@all +@read +@connection +info +multi +exec +eval +evalsha +subscribe"
        }
      ]
    })
  })
  afterAll(() => healthy.dispose())

  it("a healthy Redis: exit 0, every check passes, human output on stdout", async () => {
    const { code, out } = await run({ REDIS_URL: healthy.url }, { json: false })
    expect(code).toBe(0)
    expect(out).toMatch(/^PASS {2}redis\.connection +connected to redis:\/\/127\.0\.0\.1:\d+/m)
    expect(out).toMatch(/^PASS {2}redis\.acl +user "default", checked with ACL DRYRUN: all \d+ commands/m)
    expect(out).toMatch(/^PASS {2}redis\.persistence +append-only file on\./m)
    expect(out).not.toMatch(/^(WARN|FAIL)/m)
    expect(out).toMatch(/16 passed, 0 warnings, 0 failed\n$/)
  })

  it("--json: one JSON object with every check, each with id, status and what it found", async () => {
    const { code, out, report } = await run({ REDIS_URL: healthy.url, REDIS_MCP_TOOLSETS: "all" })
    expect(code).toBe(0)
    expect(out.trim().split("\n")).toHaveLength(1)
    expect(report!.checks.map((c) => c.id)).toEqual(ALL_CHECKS)
    for (const c of report!.checks) {
      expect(["pass", "warn", "fail", "skip"]).toContain(c.status)
      expect(c.found.length).toBeGreaterThan(5)
      if (c.status !== "pass") expect(c.fix, c.id).toBeDefined()
    }
    expect(report!.summary.fail).toBe(0)
    // `all` includes the raw command toolset with no role: a warning, not a failure.
    expect(byId(report, "toolsets.command").status).toBe("warn")
    expect(byId(report, "redis.version").details).toMatchObject({ versions: expect.any(Object) })
  })

  it("a read-only ACL user with the task toolset: fail, naming the write commands it lacks", async () => {
    const { code, report } = await run({ REDIS_URL: healthy.urlFor("ro"), REDIS_MCP_TOOLSETS: "task" })
    expect(code).toBe(1)
    const acl = byId(report, "redis.acl")
    expect(acl.status).toBe("fail")
    expect(acl.found).toContain('user "ro", checked with queued probes')
    expect(acl.found).toMatch(/task lacks [^;]*hset[^;]*\(sent by its write tools\)/)
    for (const command of ["hset", "hdel", "zadd", "zrem", "sadd", "del"]) expect(acl.found).toContain(command)
    expect(acl.fix).toMatch(/^Grant them \(ACL SETUSER ro \+/)
    const missing = (
      acl.details as { toolsets: Record<string, { missing: Array<{ command: string; write: boolean }> }> }
    ).toolsets.task!.missing
    expect(missing.every((m) => m.write)).toBe(true)
  })

  it("the same user on a read-only server: nothing the read tools send is missing", async () => {
    const { report } = await run({
      REDIS_URL: healthy.urlFor("ro"),
      REDIS_MCP_TOOLSETS: "task",
      REDIS_MCP_READ_ONLY: "1"
    })
    expect(byId(report, "redis.acl").status).toBe("pass")
  })

  it("a user scoped to a key prefix: the server's prefix must match its patterns (queued probes carry the prefix)", async () => {
    const matching = await run({ REDIS_URL: healthy.urlFor("app"), REDIS_MCP_KEY_PREFIX: "app:" })
    expect(byId(matching.report, "redis.acl").status).toBe("pass")
    expect(byId(matching.report, "redis.acl").found).toContain("checked with queued probes")
    const other = await run({ REDIS_URL: healthy.urlFor("app"), REDIS_MCP_KEY_PREFIX: "other:" })
    const acl = byId(other.report, "redis.acl")
    expect(acl.status).toBe("fail")
    expect(acl.found).toContain("keys lacks access to its keys")
    expect(acl.found).toContain("state lacks access to its keys, its channels")
    expect(acl.fix).toContain("ACL SETUSER app ~other:* &other:*")
  })

  it("the ACL users the connection chapter suggests are enough: full use, and read-only on a read-only server", async () => {
    const full = await run({ REDIS_URL: healthy.urlFor("mcp") })
    expect(byId(full.report, "redis.acl").status).toBe("pass")
    const readOnly = await run({ REDIS_URL: healthy.urlFor("mcp_ro"), REDIS_MCP_READ_ONLY: "1" })
    expect(byId(readOnly.report, "redis.acl").status).toBe("pass")
  })

  it("--acl-user checks another user by name with ACL DRYRUN", async () => {
    const { report } = await run({ REDIS_URL: healthy.url, REDIS_MCP_TOOLSETS: "keys" }, { aclUser: "ro" })
    const acl = byId(report, "redis.acl")
    expect(acl.status).toBe("fail")
    expect(acl.found).toContain('user "ro", checked with ACL DRYRUN: keys lacks set')
  })

  it("unreachable Redis: exit 1, the connection fails and the checks needing it are skipped", async () => {
    const port = await freePort()
    const { code, report } = await run({ REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_CONNECT_TIMEOUT_MS: "500" })
    expect(code).toBe(1)
    expect(byId(report, "redis.connection")).toMatchObject({ status: "fail" })
    expect(byId(report, "redis.connection").found).toContain("ECONNREFUSED")
    for (const id of ["redis.version", "redis.acl", "redis.persistence", "tls.certificates"]) {
      expect(byId(report, id).status).toBe("skip")
    }
    expect(report!.checks.map((c) => c.id)).toEqual(ALL_CHECKS)
  })

  it("invalid configuration: exit 2 and one failing config check naming the setting", async () => {
    const { code, report } = await run({ REDIS_URL: healthy.url, REDIS_MCP_TOOLSETS: "keys,bogus" })
    expect(code).toBe(2)
    expect(report!.checks).toHaveLength(1)
    expect(byId(report, "config")).toMatchObject({ status: "fail" })
    expect(byId(report, "config").found).toMatch(/^REDIS_MCP_TOOLSETS: unknown toolset "bogus"/)
  })

  it("memory mode: says so and passes; persistence warns", async () => {
    const { code, report } = await run({})
    expect(code).toBe(0)
    expect(byId(report, "redis.connection").found).toMatch(/^memory mode/)
    expect(byId(report, "redis.persistence").status).toBe("warn")
  })

  describe("the auth file", () => {
    let files: Awaited<ReturnType<typeof authDir>>
    beforeAll(async () => {
      files = await authDir()
    })
    afterAll(() => files.dispose())

    it("valid and private: pass with its counts; roles that may use command with no keys list warn", async () => {
      const path = await files.write("auth.json", {
        roles: { reader: { toolsets: ["keys"], readOnly: true }, ops: { toolsets: ["all"] } }
      })
      chmodSync(path, 0o600)
      const { report } = await run({
        REDIS_URL: healthy.url,
        REDIS_MCP_AUTH_FILE: path,
        REDIS_MCP_ROLE: "reader",
        REDIS_MCP_TOOLSETS: "default,command"
      })
      expect(byId(report, "auth.file")).toMatchObject({ status: "pass" })
      expect(byId(report, "auth.file").found).toContain("2 roles, 0 tokens, mode 600")
      expect(byId(report, "toolsets.command").status).toBe("warn")
      expect(byId(report, "toolsets.command").found).toContain('roles "ops"')
    })

    it("writable by others: fail", async () => {
      const path = await files.write("open.json", { roles: { r: { toolsets: ["keys"] } } })
      chmodSync(path, 0o666)
      const { code, report } = await run({ REDIS_URL: healthy.url, REDIS_MCP_AUTH_FILE: path })
      expect(code).toBe(1)
      expect(byId(report, "auth.file").found).toContain("writable by everyone")
    })

    it("invalid: the server would not start, so exit 2", async () => {
      const path = await files.write("bad.json", { roles: { r: { toolsets: ["nope"] } } })
      const { code, report } = await run({ REDIS_URL: healthy.url, REDIS_MCP_AUTH_FILE: path })
      expect(code).toBe(2)
      expect(byId(report, "auth.file").status).toBe("fail")
      expect(byId(report, "auth.file").found).toContain('unknown toolset "nope"')
    })

    it("an OAuth issuer: its keys are fetched; a failing issuer fails the check", async () => {
      const path = await files.write("roles.json", { roles: { r: { toolsets: ["keys"] } } })
      chmodSync(path, 0o600)
      const issuer = await startIssuer([await makeKey("k1")])
      try {
        const env = {
          REDIS_URL: healthy.url,
          REDIS_MCP_AUTH_FILE: path,
          REDIS_MCP_OAUTH_ISSUER: issuer.issuer,
          REDIS_MCP_OAUTH_AUDIENCE: "mcp"
        }
        const ok = await run(env)
        expect(byId(ok.report, "auth.oauth")).toMatchObject({ status: "pass" })
        expect(byId(ok.report, "auth.oauth").found).toContain("has 1 key")
        issuer.failing = true
        const down = await run(env)
        expect(down.code).toBe(1)
        expect(byId(down.report, "auth.oauth").status).toBe("fail")
      } finally {
        await issuer.close()
      }
    })
  })
})

describe("doctor's warnings about Redis settings", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  const servers: Array<RedisHandle> = []
  afterAll(() => Promise.all(servers.map((s) => s.dispose())))
  const start = async (config: ReadonlyArray<readonly [string, ...Array<string>]>, extra = {}) => {
    const s = await startRedis({ config: config as Array<[string, ...Array<string>]>, ...extra })
    servers.push(s)
    return s
  }

  it("protected-mode no, no maxmemory, no persistence: warnings, exit 0", async () => {
    const redis = await start([["protected-mode", "no"]])
    const { code, report } = await run({ REDIS_URL: redis.url })
    expect(code).toBe(0)
    expect(byId(report, "redis.protected-mode")).toMatchObject({ status: "warn" })
    expect(byId(report, "redis.protected-mode").found).toMatch(/^protected-mode is no on 127\.0\.0\.1:\d+/)
    expect(byId(report, "redis.maxmemory").found).toMatch(/^no maxmemory/)
    expect(byId(report, "redis.persistence").found).toMatch(/^persistence is off/)
  })

  it("an allkeys eviction policy warns that tasks and state can vanish", async () => {
    const redis = await start([
      ["maxmemory", "64mb"],
      ["maxmemory-policy", "allkeys-lru"]
    ])
    const { report } = await run({ REDIS_URL: redis.url })
    expect(byId(report, "redis.maxmemory")).toMatchObject({ status: "warn" })
    expect(byId(report, "redis.maxmemory").found).toContain("allkeys-lru")
    expect(byId(report, "redis.maxmemory").found).toContain("tasks and state documents included")
  })

  it("TLS: verified against the CA, each certificate's expiry read (the test PKI's, 2 days, warns)", async () => {
    const redis = await start([], { tls: true, aof: true })
    const { report } = await run({ REDIS_URL: redis.url, REDIS_TLS_CA_FILE: redis.tls!.caFile })
    expect(byId(report, "redis.connection").status).toBe("pass")
    expect(byId(report, "tls").found).toContain(`verified against the CA in ${redis.tls!.caFile}`)
    const certs = byId(report, "tls.certificates")
    expect(certs.status).toBe("warn")
    expect(certs.found).toMatch(/^CA file .* expires in 1 day \(\d{4}-\d\d-\d\d\); Redis's certificate/)
    expect(certs.fix).toContain("Renew")
    expect((certs.details as { certificates: Array<{ what: string }> }).certificates.map((c) => c.what)).toEqual([
      `CA file ${redis.tls!.caFile}`,
      expect.stringMatching(/^Redis's certificate \(localhost, issued by /)
    ])
  })

  it("a replica named as REDIS_URL: every write would fail with READONLY", async () => {
    const primary = await start([])
    const replica = await start([["replicaof", "127.0.0.1", String(primary.port)]])
    const { code, report } = await run({ REDIS_URL: replica.url })
    expect(code).toBe(1)
    expect(byId(report, "redis.topology").found).toContain(`a replica of 127.0.0.1:${primary.port}`)
  })
})

describe("doctor on a Cluster", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  it("3 primaries, 3 replicas, every slot covered; ACL checked on every primary", async () => {
    const cluster = await startCluster({ primaries: 3, replicasPerPrimary: 1 })
    try {
      const { report } = await run({
        REDIS_CLUSTER_NODES: cluster.seeds.map((s) => `${s.host}:${s.port}`).join(",")
      })
      expect(byId(report, "redis.connection").status).toBe("pass")
      expect(byId(report, "redis.topology")).toMatchObject({ status: "pass" })
      expect(byId(report, "redis.topology").found).toBe(
        "Cluster of 3 primaries and 3 replicas; 16384 of 16384 slots covered."
      )
      expect(byId(report, "redis.acl").status).toBe("pass")
      expect(Object.keys((byId(report, "redis.version").details as { versions: object }).versions)).toHaveLength(3)
    } finally {
      await cluster.stop()
    }
  }, 60_000)
})

const MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url))

/** `effect-redis-mcp doctor …` as an operator runs it: the built server, a process of its own. */
const spawnDoctor = (args: ReadonlyArray<string>, env: Record<string, string>) => {
  const r = spawnSync(process.execPath, [MAIN, "doctor", ...args], {
    env: { PATH: process.env.PATH ?? "", REDIS_CONNECT_TIMEOUT_MS: "1000", ...env },
    encoding: "utf8",
    timeout: 30_000
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe("effect-redis-mcp doctor (the built command)", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  let redis: RedisHandle
  beforeAll(async () => {
    redis = await startRedis({ aof: true })
  })
  afterAll(() => redis.dispose())

  it("healthy: exit 0, the report on stdout, nothing on stderr", () => {
    const { code, stdout, stderr } = spawnDoctor([], { REDIS_URL: redis.url })
    expect(code).toBe(0)
    expect(stdout).toMatch(/^effect-redis-mcp doctor \d+\.\d+\.\d+\n/)
    expect(stdout).toMatch(/^PASS {2}redis\.acl /m)
    expect(stderr).toBe("")
  })

  it("--json with the server's own flags: one object with every check", () => {
    const { code, stdout } = spawnDoctor(["--json", "--redis-url", redis.url, "--toolsets", "all"], {})
    expect(code).toBe(0)
    const report = JSON.parse(stdout) as Report
    expect(report.checks.map((c) => c.id)).toEqual(ALL_CHECKS)
  })

  it("unreachable: exit 1; invalid configuration: exit 2; a bad flag: exit 2 with the reason on stderr", async () => {
    const port = await freePort()
    expect(spawnDoctor(["--json"], { REDIS_URL: `redis://127.0.0.1:${port}` }).code).toBe(1)
    expect(spawnDoctor(["--json"], { REDIS_URL: redis.url, REDIS_MCP_TOOLSETS: "nope" }).code).toBe(2)
    const bad = spawnDoctor(["--bogus"], {})
    expect(bad.code).toBe(2)
    expect(bad.stdout).toBe("")
    expect(bad.stderr).toContain("Unknown option '--bogus'")
  })
})
