"""OAuth interop: the official Python MCP SDK (PyPI `mcp`) authorizes against a real
authorization server (tests/idp/provider.mjs, npm oidc-provider) to call a fastmcp-server started
with --oauth-issuer ISSUER --oauth-resource BASE/mcp --oauth-required-scope mcp:tools and a config
whose ADMIN_TOOL has scope = "tools:admin".

Usage: oauth_client.py BASE_URL ISSUER ADMIN_TOOL
The SDK's own auth (an httpx2.Auth) discovers the Protected Resource Metadata from the 401, then
the authorization server's metadata, gets a token for the resource (RFC 8707) and calls tools:
client credentials (mcp.client.auth.extensions) in the SDK's default mode (stateless 2026-07-28),
in mode="legacy" (the initialize handshake) and on the legacy HTTP+SSE transport; a client
without tools:admin meets 403 insufficient_scope; then authorization code + PKCE with dynamic
client registration, the browser's part played by following the provider's redirects (its
interaction approves at once). Prints one "ok ..." / "FAIL ..." line per check and
"oauth interop: N passed, M failed".
"""

import base64
import json
import sys
import warnings
from urllib.parse import parse_qs, urljoin, urlparse

import anyio
import httpx2
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.session import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientMetadata

BASE = sys.argv[1].rstrip("/")
ISSUER = sys.argv[2].rstrip("/")
ADMIN_TOOL = sys.argv[3] if len(sys.argv) > 3 else "admin_echo"
RESOURCE = f"{BASE}/mcp"
REDIRECT = "http://127.0.0.1:1/callback"
warnings.filterwarnings("ignore", message="ping is removed")
results = []


def check(name, cond, detail=""):
    results.append(bool(cond))
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f": {detail}"), flush=True)


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


def claims_of(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class Memory:
    """The SDK's TokenStorage, in memory."""

    def __init__(self):
        self.tokens = None
        self.client_info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


def recording_client(auth, log):
    """An httpx2 client with the SDK's auth that records every response (the auth flow's too)."""

    async def record(response):
        request = response.request
        body = request.content.decode(errors="replace") if request.content else ""
        log.append((str(request.url), response.status_code, response.headers.get("www-authenticate", ""), body))

    return httpx2.AsyncClient(auth=auth, event_hooks={"response": [record]}, timeout=30)


def client_credentials(client_id, secret, scope):
    return ClientCredentialsOAuthProvider(
        server_url=RESOURCE, storage=Memory(), client_id=client_id, client_secret=secret, scope=scope, issuer=ISSUER
    )


async def admin_session(mode, label):
    log = []
    auth = client_credentials("mcp-admin", "admin-secret", "mcp:tools tools:admin")
    async with recording_client(auth, log) as http:
        async with Client(streamable_http_client(RESOURCE, http_client=http), mode=mode) as client:
            check(f"{label}: the SDK was challenged with 401 first", log and log[0][1] == 401, log[:2])
            check(f"{label}: the SDK fetched the PRM",
                  any("/.well-known/oauth-protected-resource" in u and s == 200 for u, s, _, _ in log),
                  [(s, u) for u, s, _, _ in log])
            token_req = next((b for u, s, _, b in log if u.startswith(ISSUER) and "client_credentials" in b), "")
            check(f"{label}: token requested with resource=", parse_qs(token_req).get("resource") == [RESOURCE],
                  token_req)
            claims = claims_of(auth.context.current_tokens.access_token)
            check(f"{label}: a JWT for this resource from this issuer",
                  claims.get("aud") == RESOURCE and claims.get("iss") == ISSUER, claims)
            # The SDK asks for the scope the 401 named (SEP-835), not all its client may have.
            check(f"{label}: the first token has the scope the 401 asked for", claims.get("scope") == "mcp:tools",
                  claims)
            names = [t.name for t in (await client.list_tools()).tools]
            check(f"{label}: tools/list shows add, hides {ADMIN_TOOL} from that token",
                  "add" in names and ADMIN_TOOL not in names, names)
            r = await client.call_tool("add", {"a": 2, "b": 3})
            check(f"{label}: add", text_of(r) == "5" and not r.is_error, r)
            before = len(log)
            r = await client.call_tool(ADMIN_TOOL, {})
            check(f"{label}: {ADMIN_TOOL} (scope tools:admin) after a step-up", not r.is_error, r)
            step = log[before:]
            check(f"{label}: the step-up: 403 insufficient_scope, a token with tools:admin, the retry answered",
                  step and step[0][1] == 403 and 'error="insufficient_scope"' in step[0][2]
                  and any(u.startswith(ISSUER) and s == 200 and "tools%3Aadmin" in b for u, s, _, b in step)
                  and "tools:admin" in claims_of(auth.context.current_tokens.access_token).get("scope", ""),
                  [(s, u, c) for u, s, c, _ in step])


async def stateless():
    await admin_session("auto", "python client_credentials (2026-07-28)")


async def handshake():
    await admin_session("legacy", "python client_credentials (2025-11-25)")


async def legacy_sse():
    auth = client_credentials("mcp-admin", "admin-secret", "mcp:tools tools:admin")
    async with sse_client(f"{BASE}/sse", auth=auth) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            r = await session.call_tool("add", {"a": 40, "b": 2})
            check("python client_credentials over legacy HTTP+SSE: add", text_of(r) == "42" and not r.is_error, r)


async def missing_scope():
    log = []
    auth = client_credentials("mcp-user", "user-secret", "mcp:tools")
    error = None
    result = None
    try:
        async with recording_client(auth, log) as http:
            async with Client(streamable_http_client(RESOURCE, http_client=http), mode="legacy") as client:
                names = [t.name for t in (await client.list_tools()).tools]
                check(f"python no tools:admin: tools/list hides {ADMIN_TOOL}",
                      "add" in names and ADMIN_TOOL not in names, names)
                r = await client.call_tool("add", {"a": 1, "b": 1})
                check("python no tools:admin: add still works", text_of(r) == "2", r)
                result = await client.call_tool(ADMIN_TOOL, {})
    except Exception as e:  # noqa: BLE001 - the refused step-up ends the transport's task group
        error = e
    refused = next((c for _, s, c, _ in log if s == 403), "")
    check(f"python no tools:admin: {ADMIN_TOOL} -> 403 insufficient_scope naming tools:admin",
          'error="insufficient_scope"' in refused and "tools:admin" in refused, [(s, c) for _, s, c, _ in log])
    step_up = [s for u, s, _, b in log if u.startswith(ISSUER) and "tools%3Aadmin" in b]
    check("python no tools:admin: the SDK stepped up and the provider refused it (400 invalid_scope)",
          step_up == [400], [(s, u) for u, s, _, _ in log])
    check("python no tools:admin: the call failed in the SDK, no result",
          (error is not None and "invalid_scope" in repr(error)) or (result is not None and result.is_error),
          (error, result))


class HeadlessBrowser:
    """The user's browser: follows the provider's redirects, with its cookies, to the redirect URI."""

    def __init__(self):
        self.url = None
        self.result = None

    async def redirect(self, authorization_url):
        self.url = authorization_url
        nxt = authorization_url
        async with httpx2.AsyncClient(follow_redirects=False, timeout=30) as browser:
            for _ in range(10):
                if nxt.startswith(REDIRECT):
                    q = parse_qs(urlparse(nxt).query)
                    self.result = AuthorizationCodeResult(code=q["code"][0], state=q.get("state", [None])[0],
                                                          iss=q.get("iss", [None])[0])
                    return
                r = await browser.get(nxt)
                if "location" not in r.headers:
                    raise RuntimeError(f"the provider stopped at {r.status_code} {nxt}: {r.text[:200]}")
                nxt = urljoin(nxt, r.headers["location"])
        raise RuntimeError("too many redirects")

    async def callback(self):
        return self.result


async def authorization_code():
    browser = HeadlessBrowser()
    storage = Memory()
    auth = OAuthClientProvider(
        server_url=RESOURCE,
        client_metadata=OAuthClientMetadata(
            client_name="python-oauth-interop", redirect_uris=[REDIRECT],
            grant_types=["authorization_code", "refresh_token"], response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=browser.redirect,
        callback_handler=browser.callback,
    )
    async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
        async with Client(streamable_http_client(RESOURCE, http_client=http), mode="legacy") as client:
            q = parse_qs(urlparse(browser.url or "").query)
            check("python authorization code: dynamic registration gave a client id",
                  storage.client_info and storage.client_info.client_id, storage.client_info)
            check("python authorization code: PKCE S256 and resource= in the request",
                  q.get("code_challenge_method") == ["S256"] and q.get("resource") == [RESOURCE], browser.url)
            claims = claims_of(storage.tokens.access_token)
            check("python authorization code: a JWT for this resource naming the user",
                  claims.get("aud") == RESOURCE and claims.get("iss") == ISSUER and claims.get("sub") == "alice",
                  claims)
            r = await client.call_tool("echo", {"message": "authorized"})
            check("python authorization code: echo", text_of(r) == "authorized" and not r.is_error, r)


async def main():
    for fn in [stateless, handshake, legacy_sse, missing_scope, authorization_code]:
        try:
            with anyio.fail_after(60):
                await fn()
        except Exception as e:  # noqa: BLE001
            check(f"{fn.__name__} completed", False, repr(e))


anyio.run(main)
print(f"oauth interop: {sum(results)} passed, {len(results) - sum(results)} failed")
sys.exit(0 if results and all(results) else 1)
