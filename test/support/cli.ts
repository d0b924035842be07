/**
 * Running redis-cli against an endpoint.
 */
import { execFile } from "node:child_process"
import type { Endpoint } from "./admin.ts"
import { binary } from "./env.ts"

/** Connection flags for redis-cli (-h/-p, credentials, TLS). */
export const cliConnectionArgs = (endpoint: Endpoint): string[] => [
  "-h",
  endpoint.host,
  "-p",
  String(endpoint.port),
  ...cliAuthArgs(endpoint)
]

/** Credential and TLS flags for redis-cli (no address). */
export const cliAuthArgs = (endpoint: Endpoint): string[] => {
  const args: string[] = []
  if (endpoint.username !== undefined) args.push("--user", endpoint.username)
  if (endpoint.password !== undefined) args.push("--pass", endpoint.password, "--no-auth-warning")
  if (endpoint.tls !== undefined) {
    const { caFile, certFile, keyFile } = endpoint.tls
    args.push("--tls", "--cacert", caFile, "--cert", certFile, "--key", keyFile)
  }
  return args
}

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs redis-cli with raw arguments; never rejects on a non-zero exit code. */
export const runCli = (args: readonly string[], timeoutMs = 60_000): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    execFile(
      binary("redis-cli"),
      [...args],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") {
          reject(new Error(`redis-cli ${args.join(" ")} failed: ${error.message}\n${stderr}`))
          return
        }
        resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr })
      }
    )
  })

/**
 * `redis-cli <connection flags> ...args`, returning stdout without the
 * trailing newline. Error replies are returned as text (e.g. "NOPERM ...");
 * only a failure to run or connect rejects.
 */
export const cli = async (endpoint: Endpoint, ...args: (string | number)[]): Promise<string> => {
  const result = await runCli([...cliConnectionArgs(endpoint), ...args.map(String)])
  const stdout = result.stdout.trimEnd()
  if (result.code !== 0 && stdout === "") {
    throw new Error(`redis-cli exited with ${result.code}: ${result.stderr.trim()}`)
  }
  return stdout
}
