"""Interop test: the official Python MCP SDK (PyPI `mcp`) through `fastmcp-server gateway` in front
of `fastmcp-server --stdio`, in session mode (the gateway starts one child per session).

Usage: gateway_client.py GATEWAY_BASE_URL
Runs the Streamable HTTP client with mode="legacy" (the initialize handshake, 2025-11-25) on /mcp,
the SDK's default mode (server/discover, then stateless 2026-07-28 requests through the gateway's
pool of children)
and the legacy HTTP+SSE client on /sse, each a session with its own child. Prints one "ok ..." or
"FAIL ..." line per check and "gateway interop: N passed, M failed"; exits non-zero if any failed.
"""

import sys
import time
import warnings

import anyio
from mcp import Client
from mcp.client.session import ClientSession
from mcp.client.sse import sse_client

BASE = sys.argv[1].rstrip("/")
warnings.filterwarnings("ignore", message="ping is removed")
warnings.filterwarnings("ignore", message="The logging capability is deprecated")
results = []


def check(name, cond, detail=""):
    results.append(bool(cond))
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f": {detail}"), flush=True)


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


async def exercise(label, call_tool, list_tools, ping):
    names = [t.name for t in (await list_tools()).tools]
    check(f"{label}: tools/list names echo, add, sleep", {"echo", "add", "sleep"} <= set(names), names)
    r = await call_tool("echo", {"message": "through the gateway"})
    check(f"{label}: echo", text_of(r) == "through the gateway" and not r.is_error, r)
    r = await call_tool("add", {"a": 42, "b": 27})
    check(f"{label}: add", text_of(r) == "69" and not r.is_error, r)
    r = await call_tool("add", {"a": "x", "b": 1})
    check(f"{label}: bad arguments -> isError", r.is_error, r)
    try:
        r = await call_tool("no_such_tool", {})
        check(f"{label}: unknown tool -> error", r.is_error, r)
    except Exception as e:  # noqa: BLE001 - the SDK raises MCPError for JSON-RPC errors
        check(f"{label}: unknown tool -> error", "no_such_tool" in str(e) or "Unknown tool" in str(e), e)
    # The child's progress notifications carry this request's token: they must reach this call.
    progress = []

    async def on_progress(done, total, message):
        progress.append(done)

    start = time.monotonic()
    r = await call_tool("sleep", {"seconds": 1}, progress_callback=on_progress)
    took = time.monotonic() - start
    check(f"{label}: sleep 1 s answered in [1, 5) s", 1.0 <= took < 5.0 and not r.is_error, (took, r))
    check(f"{label}: sleep's progress notifications reached the call", len(progress) >= 1, progress)
    await ping()
    check(f"{label}: ping", True)


async def streamable():
    async with Client(f"{BASE}/mcp", mode="legacy") as client:
        check("gateway streamable: negotiated 2025-11-25", client.protocol_version == "2025-11-25",
              client.protocol_version)
        check("gateway streamable: initialize answered by the child (fastmcp-server --stdio)",
              client.server_info and client.server_info.name == "fastmcp-server", client.server_info)
        await exercise("gateway streamable", client.call_tool, client.list_tools, client.send_ping)


async def default_mode():
    """The SDK's default asks server/discover first and then sends stateless 2026-07-28 requests,
    which the gateway serves through its pool of initialized children."""
    async with Client(f"{BASE}/mcp") as client:
        check("gateway default mode: 2026-07-28 through the stateless pool", client.protocol_version == "2026-07-28",
              client.protocol_version)
        names = {t.name for t in (await client.list_tools()).tools}
        check("gateway default mode: tools/list names echo, add, sleep", {"echo", "add", "sleep"} <= names, names)
        r = await client.call_tool("add", {"a": 2, "b": 3})
        check("gateway default mode: add", text_of(r) == "5" and not r.is_error, r)


async def legacy_sse():
    async with sse_client(f"{BASE}/sse") as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            check("gateway sse: initialize answered by the child", init.server_info.name == "fastmcp-server", init)
            await exercise("gateway sse", session.call_tool, session.list_tools, session.send_ping)


async def main():
    for fn in [streamable, default_mode, legacy_sse]:
        try:
            with anyio.fail_after(60):
                await fn()
        except Exception as e:  # noqa: BLE001
            check(f"{fn.__name__} completed", False, repr(e))


anyio.run(main)
print(f"gateway interop: {sum(results)} passed, {len(results) - sum(results)} failed")
sys.exit(0 if results and all(results) else 1)
