/**
 * RFC 9728 OAuth 2.0 Protected Resource Metadata: the document served (without a token) at
 * `/.well-known/oauth-protected-resource` when OAuth is configured, from which a client learns
 * which authorization server issues tokens for this server.
 */
import type { OAuthProtectedResourceMetadata } from "@modelcontextprotocol/server"

export interface ResourceMetadataOptions {
  /** This server's resource identifier: the public URL of its `/mcp` endpoint. */
  readonly resource: URL
  /** The authorization server's issuer identifier (REDIS_MCP_OAUTH_ISSUER). */
  readonly issuer: string
  readonly scopesSupported?: ReadonlyArray<string>
  readonly resourceName?: string
  readonly documentation?: URL
}

/** The metadata document (RFC 9728 §2): bearer tokens in the `Authorization` header only. */
export const protectedResourceMetadata = (options: ResourceMetadataOptions): OAuthProtectedResourceMetadata => ({
  resource: options.resource.href,
  authorization_servers: [options.issuer],
  bearer_methods_supported: ["header"],
  ...(options.scopesSupported === undefined ? {} : { scopes_supported: [...options.scopesSupported] }),
  resource_name: options.resourceName ?? "effect-redis-mcp",
  ...(options.documentation === undefined ? {} : { resource_documentation: options.documentation.href })
})

/**
 * The paths to serve the document on: RFC 9728 §3.1's (the well-known prefix before the
 * resource's path, `/.well-known/oauth-protected-resource/mcp`) and the bare one SERVICE.md names
 * (clients that probe the origin's root).
 */
export const metadataPaths = (resource: URL): ReadonlyArray<string> => {
  const path = resource.pathname.replace(/\/+$/, "")
  const base = "/.well-known/oauth-protected-resource"
  return path === "" ? [base] : [`${base}${path}`, base]
}

/** The URL advertised in challenges (`resource_metadata`): the RFC 9728 one. */
export const metadataUrl = (resource: URL): string => new URL(metadataPaths(resource)[0]!, resource.origin).href
