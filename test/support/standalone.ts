/**
 * `startRedis(options)`: one redis-server in its own temp directory.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { Redis } from "ioredis"
import { type ClientOptions, clientOptions, command, type Endpoint, info, role } from "./admin.ts"
import { cli } from "./cli.ts"
import { type AclUser, type Directive, renderConfig, userDirective } from "./config.ts"
import { binary } from "./env.ts"
import { freePort, HOST } from "./ports.ts"
import { makeTempDir, removeTempDir, trackClient, untrackClient } from "./registry.ts"
import { type ServerProcess, serverProcess } from "./server-process.ts"
import { type TlsFiles, tlsFiles } from "./tls.ts"
import { sleep } from "./wait.ts"

export interface StartRedisOptions {
  /** appendonly yes + appendfsync always (otherwise persistence is off: save ""). */
  readonly aof?: boolean
  /** requirepass for the default user. */
  readonly password?: string
  /** Extra ACL users, created via `user` directives (survive restart). */
  readonly aclUsers?: readonly AclUser[]
  /** Serve TLS only (tls-port = port, port 0) with the cached test PKI. */
  readonly tls?: boolean
  /** Appended verbatim to the redis-server command line. */
  readonly extraArgs?: readonly string[]
  /** Extra config-file directives, e.g. [["replicaof", "127.0.0.1", "6379"]]. */
  readonly config?: readonly Directive[]
  /** Use this port (should come from freePort) instead of allocating one. */
  readonly port?: number
  /** Also require the cluster bus port (port + 10000) to be free. */
  readonly clusterBus?: boolean
  /** PING readiness timeout for start/restart (default 15 s). */
  readonly readyTimeoutMs?: number
}

export interface RedisHandle {
  readonly host: string
  readonly port: number
  /** redis:// or rediss:// URL including the default user's password. */
  readonly url: string
  readonly dir: string
  readonly logFile: string
  readonly password?: string
  /** PKI files when started with `tls: true` (certFile/keyFile = client cert). */
  readonly tls?: TlsFiles
  /** Admin endpoint (default user). */
  readonly endpoint: Endpoint
  readonly process: ServerProcess
  /** URL for an ACL user given in `aclUsers` (or any user/password pair). */
  urlFor(user: string, password?: string): string
  isRunning(): boolean
  pid(): number | undefined
  /** Graceful stop (SIGTERM, SIGKILL after 10 s); closes client()s; keeps dir. */
  stop(): Promise<void>
  /** SIGKILL and wait for exit; client()s stay open (they will reconnect). */
  kill(): Promise<void>
  /** Starts again on the same port/dir (stopping first if running); waits for PING. */
  restart(): Promise<void>
  /** CLIENT PAUSE ms (mode ALL by default). */
  pause(ms: number, mode?: "ALL" | "WRITE"): Promise<void>
  /** DEBUG SLEEP on a separate connection; resolves once the command is sent. */
  debugSleep(seconds: number): Promise<void>
  /** A new ioredis client (tracked; closed on stop/dispose/stopAll). */
  client(overrides?: ClientOptions): Redis
  /** redis-cli output for `args`. */
  cli(...args: (string | number)[]): Promise<string>
  /** One admin command on a fresh connection. */
  command(name: string, ...args: (string | number)[]): Promise<unknown>
  info(section?: string): Promise<Map<string, string>>
  /** First element of ROLE, undefined when unreachable. */
  role(): Promise<string | undefined>
  logTail(lines?: number): Promise<string>
  /** SIGKILL, close clients, delete the directory. Idempotent. */
  dispose(): Promise<void>
}

const credentials = (user: string | undefined, password: string | undefined): string => {
  if (password === undefined) return user === undefined ? "" : `${encodeURIComponent(user)}@`
  return `${encodeURIComponent(user ?? "")}:${encodeURIComponent(password)}@`
}

const baseConfig = (port: number, dir: string, options: StartRedisOptions, tls: TlsFiles | undefined): Directive[] => {
  const config: Directive[] = [
    ["bind", HOST],
    ["dir", dir],
    ["daemonize", "no"],
    ["logfile", ""],
    ["enable-debug-command", "yes"],
    ["repl-diskless-sync-delay", "0"]
  ]
  if (tls === undefined) config.push(["port", String(port)])
  else {
    config.push(
      ["port", "0"],
      ["tls-port", String(port)],
      ["tls-cert-file", tls.serverCertFile],
      ["tls-key-file", tls.serverKeyFile],
      ["tls-ca-cert-file", tls.caFile],
      ["tls-auth-clients", "optional"],
      ["tls-replication", "yes"]
    )
  }
  if (options.aof === true) config.push(["appendonly", "yes"], ["appendfsync", "always"])
  else config.push(["save", ""], ["appendonly", "no"])
  if (options.password !== undefined) config.push(["requirepass", options.password])
  for (const user of options.aclUsers ?? []) config.push(userDirective(user))
  config.push(...(options.config ?? []))
  return config
}

/** Starts a standalone redis-server and waits until it answers PING. */
export const startRedis = async (options: StartRedisOptions = {}): Promise<RedisHandle> => {
  const port = options.port ?? (await freePort({ clusterBus: options.clusterBus === true }))
  const tls = options.tls === true ? await tlsFiles() : undefined
  const dir = makeTempDir(`redis-${port}`)
  const confFile = join(dir, "redis.conf")
  const logFile = join(dir, "redis.log")
  writeFileSync(confFile, renderConfig(baseConfig(port, dir, options, tls)))

  const endpoint: Endpoint = {
    host: HOST,
    port,
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(tls !== undefined ? { tls } : {})
  }
  const proc = serverProcess({
    name: `redis-server ${HOST}:${port}`,
    bin: binary("redis-server"),
    args: [confFile, ...(options.extraArgs ?? [])],
    cwd: dir,
    logFile,
    endpoint
  })
  const readyTimeout = options.readyTimeoutMs ?? 15_000
  const clients = new Set<Redis>()
  let disposed = false

  const closeClients = (): void => {
    for (const client of clients) {
      client.disconnect()
      untrackClient(client)
    }
    clients.clear()
  }

  const scheme = tls === undefined ? "redis" : "rediss"
  const urlFor = (user: string, password?: string): string => {
    const pass = password ?? options.aclUsers?.find((u) => u.name === user)?.password
    return `${scheme}://${credentials(user, pass)}${HOST}:${port}`
  }

  const handle: RedisHandle = {
    host: HOST,
    port,
    url: `${scheme}://${credentials(undefined, options.password)}${HOST}:${port}`,
    dir,
    logFile,
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(tls !== undefined ? { tls } : {}),
    endpoint,
    process: proc,
    urlFor,
    isRunning: () => proc.isRunning(),
    pid: () => proc.pid(),
    stop: async () => {
      closeClients()
      await proc.terminate("SIGTERM")
    },
    kill: () => proc.terminate("SIGKILL"),
    restart: async () => {
      if (disposed) throw new Error(`${proc.spec.name} was disposed`)
      await proc.terminate("SIGTERM")
      await proc.start(readyTimeout)
    },
    pause: async (ms, mode = "ALL") => {
      await command(endpoint, "CLIENT", "PAUSE", ms, mode)
    },
    debugSleep: async (seconds) => {
      const sleeper = trackClient(
        new Redis({
          ...clientOptions(endpoint),
          lazyConnect: true,
          enableReadyCheck: false,
          retryStrategy: () => null,
          disconnectTimeout: 200
        })
      )
      sleeper.on("error", () => {})
      await sleeper.connect()
      const done = (): void => {
        sleeper.disconnect()
        untrackClient(sleeper)
      }
      sleeper.call("DEBUG", ["SLEEP", String(seconds)]).then(done, done)
      await sleep(50) // let the command reach the server before returning
    },
    client: (overrides = {}) => {
      const client = trackClient(new Redis({ ...clientOptions(endpoint), ...overrides }))
      client.on("error", () => {})
      clients.add(client)
      return client
    },
    cli: (...args) => cli(endpoint, ...args),
    command: (name, ...args) => command(endpoint, name, ...args),
    info: (section) => info(endpoint, section),
    role: () => role(endpoint),
    logTail: (lines) => proc.logTail(lines),
    dispose: async () => {
      if (disposed) return
      disposed = true
      closeClients()
      await proc.terminate("SIGKILL")
      removeTempDir(dir)
    }
  }

  try {
    await proc.start(readyTimeout)
  } catch (error) {
    await handle.dispose()
    throw error
  }
  return handle
}
