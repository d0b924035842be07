/**
 * Binding a listener (the HTTP transport's, the metrics port's): a bind that
 * cannot be had is a configuration problem, one line naming the setting, exit 2.
 */
import type { Server } from "node:http"
import type { AddressInfo } from "node:net"
import { Config, ConfigProvider, Effect } from "effect"

const bindError = (setting: string, host: string, port: number, error: NodeJS.ErrnoException) =>
  new Config.ConfigError(
    new ConfigProvider.SourceError({
      message: `${setting}: cannot listen on ${host}:${port}: ${
        error.code === "EADDRINUSE"
          ? "the port is in use (pick another, or 0 for a free one)"
          : error.code === "EACCES"
            ? "permission denied (ports below 1024 need privileges; use a higher one behind a proxy)"
            : error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND"
              ? "no such local address (REDIS_MCP_HTTP_HOST)"
              : error.message
      }`
    })
  )

/** Listens on `host:port`; `setting` is the port's setting, named when the bind is refused. */
export const listen = (server: Server, host: string, port: number, setting = "REDIS_MCP_HTTP_PORT") =>
  Effect.callback<AddressInfo, Config.ConfigError>((resume) => {
    const onError = (error: NodeJS.ErrnoException) => resume(Effect.fail(bindError(setting, host, port, error)))
    server.once("error", onError)
    server.listen(port, host, () => {
      server.off("error", onError)
      resume(Effect.succeed(server.address() as AddressInfo))
    })
  })
