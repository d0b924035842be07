/**
 * `effect-redis-mcp doctor [--json] [--acl-user NAME] [server flags…]`: the compliance report as a
 * command. Its own flags, then the server's (the same parser, so the same precedence); the report
 * goes to stdout — an operator's command, not the MCP server. Exit 0 when nothing failed, 1 when
 * a check failed, 2 for invalid configuration.
 */
import { ConfigProvider, Effect } from "effect"
import { configProvider, parseCli } from "../../layers/Cli.ts"
import { VERSION } from "../Server.ts"
import { type DoctorOptions, diagnose } from "./Doctor.ts"
import { renderJson, renderText } from "./Report.ts"

export type DoctorArgs =
  | { readonly _tag: "Run"; readonly options: DoctorOptions; readonly rest: ReadonlyArray<string> }
  | { readonly _tag: "Invalid"; readonly message: string }

/** Doctor's own flags out of `argv` (after `doctor`); the rest are the server's flags. */
export const parseDoctorArgs = (argv: ReadonlyArray<string>): DoctorArgs => {
  let json = false
  let aclUser: string | undefined
  const rest: Array<string> = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--json") json = true
    else if (arg === "--acl-user" || arg.startsWith("--acl-user=")) {
      const value = arg === "--acl-user" ? argv[++i] : arg.slice("--acl-user=".length)
      if (value === undefined || value === "") return { _tag: "Invalid", message: "--acl-user needs a user name" }
      aclUser = value
    } else rest.push(arg)
  }
  return { _tag: "Run", options: { json, aclUser }, rest }
}

export const DOCTOR_HELP = `Usage: effect-redis-mcp doctor [--json] [--acl-user NAME] [server options]

Checks the configuration as the server reads it, connects to Redis and reports, each with
pass/warn/fail and the fix: auth, the raw command toolset, the audit log, Redis's version and
topology, the ACL permissions the enabled toolsets need, protected-mode, the default user,
maxmemory and eviction, persistence, TLS and certificate expiry. See docs/admin/doctor.md.

  --json            print one JSON object instead of text
  --acl-user NAME   the Redis user whose permissions to check (default: the configured one)

Server options (--redis-url, --toolsets, --key-prefix, ...) and environment as for the server.
Exit: 0 nothing failed, 1 a check failed, 2 invalid configuration.
`

/**
 * `effect-redis-mcp doctor …`: `argv` after `doctor`, the environment; prints the report (or the
 * usage) and gives the exit code.
 */
export const doctorCommand = (
  argv: ReadonlyArray<string>,
  env: Record<string, string | undefined>,
  out: { readonly stdout: (text: string) => void; readonly stderr: (text: string) => void }
): Promise<number> => {
  const args = parseDoctorArgs(argv)
  const cli = args._tag === "Run" ? parseCli(args.rest) : args
  if (cli._tag === "Help") {
    out.stderr(DOCTOR_HELP)
    return Promise.resolve(0)
  }
  if (cli._tag === "Invalid" || args._tag === "Invalid") {
    out.stderr(`effect-redis-mcp doctor: ${cli._tag === "Invalid" ? cli.message : ""}. See doctor --help.\n`)
    return Promise.resolve(2)
  }
  if (cli._tag === "Version") {
    out.stderr(`${VERSION}\n`)
    return Promise.resolve(0)
  }
  return runDoctor(args.options, configProvider(env, cli.env), out.stdout)
}

/**
 * Run doctor with the given settings provider and print the report with `write`; the exit code
 * it should end with.
 */
export const runDoctor = (
  options: DoctorOptions,
  provider: ConfigProvider.ConfigProvider,
  write: (text: string) => void
): Promise<number> =>
  Effect.runPromise(
    diagnose(options).pipe(
      Effect.provideService(ConfigProvider.ConfigProvider, provider),
      Effect.map((report) => {
        write(options.json ? renderJson(report) : renderText(report))
        return report.exitCode
      })
    )
  )
