// A real OAuth 2.1 / OpenID authorization server for the end-to-end tests: npm `oidc-provider`
// (the certified OpenID provider), not a mock that signs whatever a test asks for. Tokens are
// only ever obtained through its endpoints, and it decides what goes in them.
//
// Usage: node provider.mjs [--port N] [--ttl SECS] [--clients FILE] [--token-alg RS256|ES256]
//                          [--subject SUB]
// Prints `issuer http://127.0.0.1:PORT` as its first line once it listens (port 0 = a free one),
// then serves until killed. Start it twice for "another issuer": each run generates its own keys.
//
// What it issues (features):
// - client_credentials grant (clientCredentials) and authorization code + PKCE, the latter
//   approved at once by the interaction below (devInteractions off: no login page to drive);
// - RFC 8707 resource indicators: any `resource` a client names becomes the token's `aud`;
//   the token is a JWT (RFC 9068) signed with RS256 or ES256 (both keys are in its JWKS), or an
//   opaque one for clients marked `"token_format": "opaque"`, for the introspection tests;
//   each resource's scopes are `mcp:tools tools:admin`, a client gets those its own `scope` allows;
// - RFC 7662 introspection, RFC 7591 dynamic client registration (which the MCP SDKs use).
// --ttl sets the access tokens' lifetime (default 600 s; a few seconds for the expiry tests).
//
// Clients (--clients FILE: a JSON array of client metadata, replacing these defaults; the extra
// keys `token_format` ("jwt"|"opaque") and `token_alg` are this script's, not the provider's):
//   mcp-admin / admin-secret       client_credentials, scope "mcp:tools tools:admin"
//   mcp-user / user-secret         client_credentials, scope "mcp:tools" (no tools:admin)
//   mcp-es256 / es256-secret       as mcp-admin, its tokens signed with ES256
//   mcp-opaque / opaque-secret     as mcp-admin, its tokens opaque (introspected)
//   mcp-introspector / introspector-secret   may call the introspection endpoint, nothing else
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import Provider from "oidc-provider";

const SCOPES = "mcp:tools tools:admin";

function parseArgs(argv) {
  const opts = { port: 0, ttl: 600, clients: null, tokenAlg: "RS256", subject: "alice" };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
      return argv[++i];
    };
    switch (argv[i]) {
      case "--port": opts.port = Number(value()); break;
      case "--ttl": opts.ttl = Number(value()); break;
      case "--clients": opts.clients = JSON.parse(readFileSync(value(), "utf8")); break;
      case "--token-alg": opts.tokenAlg = value(); break;
      case "--subject": opts.subject = value(); break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!Number.isInteger(opts.ttl) || opts.ttl < 1) throw new Error("--ttl must be a positive integer");
  if (!["RS256", "ES256"].includes(opts.tokenAlg)) throw new Error("--token-alg is RS256 or ES256");
  return opts;
}

function defaultClients() {
  const cc = (id, secret, scope, extra = {}) => ({
    client_id: id,
    client_secret: secret,
    grant_types: ["client_credentials"],
    response_types: [],
    redirect_uris: [],
    ...(scope ? { scope } : {}),
    ...extra,
  });
  return [
    cc("mcp-admin", "admin-secret", SCOPES),
    cc("mcp-user", "user-secret", "mcp:tools"),
    cc("mcp-es256", "es256-secret", SCOPES, { token_alg: "ES256" }),
    cc("mcp-opaque", "opaque-secret", SCOPES, { token_format: "opaque" }),
    cc("mcp-introspector", "introspector-secret", null, { grant_types: [] }),
  ];
}

/** Fresh signing keys for this run: an RSA and a P-256 key, as private JWKs. */
function generateKeys() {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" });
  return [
    { ...rsa, kid: `rs-${randomUUID().slice(0, 8)}`, alg: "RS256", use: "sig" },
    { ...ec, kid: `es-${randomUUID().slice(0, 8)}`, alg: "ES256", use: "sig" },
  ];
}

const opts = parseArgs(process.argv.slice(2));
// This script's own keys are taken out of each client's metadata before the provider sees them.
const tokenFormat = new Map();
const tokenAlg = new Map();
const clients = (opts.clients ?? defaultClients()).map(({ token_format, token_alg, ...meta }) => {
  if (token_format) tokenFormat.set(meta.client_id, token_format);
  if (token_alg) tokenAlg.set(meta.client_id, token_alg);
  return meta;
});

// The port is known only once listening, and the issuer URL names it: listen first, then build
// the provider and hand it the requests.
const server = createServer();
await new Promise((resolve) => server.listen(opts.port, "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: generateKeys() },
  scopes: ["openid", "offline_access", "mcp:tools", "tools:admin"],
  // Anyone may read the discovery documents and keys; the test clients are not browsers.
  clientBasedCORS: () => true,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    registration: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // A client that names no resource at the token endpoint gets the one it was granted.
      defaultResource: async (_ctx, _client, oneOf) => oneOf,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resource, client) => ({
        scope: SCOPES,
        audience: resource,
        accessTokenTTL: opts.ttl,
        accessTokenFormat: tokenFormat.get(client.clientId) ?? "jwt",
        jwt: { sign: { alg: tokenAlg.get(client.clientId) ?? opts.tokenAlg } },
      }),
    },
  },
  ttl: {
    AccessToken: opts.ttl,
    ClientCredentials: opts.ttl,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  // Every user is `--subject`; there is no account store to look anything up in.
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  pkce: { required: () => true },
  // A public client (the SDKs register with token_endpoint_auth_method "none") refreshes too.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
  // The SDKs register loopback redirect URIs over http.
  allowOmittingSingleRegisteredRedirectUri: true,
});
provider.on("server_error", (_ctx, err) => console.error("server_error", err));

/**
 * The one interaction: whoever asks is `--subject`, and consents at once to every scope and
 * resource the authorization request named. This is what lets the SDKs' authorization-code flow
 * run headlessly: following the redirects (with the cookies) ends at the redirect_uri with a code.
 */
async function approve(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  const accountId = session?.accountId ?? opts.subject;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  const missing = prompt.details ?? {};
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(resource, scopes.join(" "));
  }
  // A resource named with no scope at all is still granted (with none).
  if (params.resource) {
    for (const resource of [].concat(params.resource)) {
      if (!grant.getResourceScope(resource)) grant.addResourceScope(resource, "");
    }
  }
  const grantId = await grant.save();
  const result = { consent: { grantId } };
  if (prompt.name === "login" || !session?.accountId) result.login = { accountId };
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
server.on("request", (req, res) => {
  if (req.url.startsWith("/interaction/")) {
    approve(req, res).catch((err) => {
      console.error("interaction failed", err);
      res.statusCode = 500;
      res.end(String(err?.message ?? err));
    });
    return;
  }
  callback(req, res);
});

console.log(`issuer ${issuer}`);
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
