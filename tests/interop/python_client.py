"""Interop test: the official Python MCP SDK (PyPI `mcp`) against a running fastmcp-server.

Usage: python_client.py BASE_URL [FIXTURES_URL]
Runs the Streamable HTTP client (/mcp) in both eras: its default mode negotiates the stateless
revision 2026-07-28 through server/discover, mode="legacy" the initialize handshake (2025-11-25);
and the legacy HTTP+SSE client (/sse). Prints one "ok ..." or "FAIL ..." line per check and exits
non-zero if any check failed. With FIXTURES_URL (the conformance fixture server,
examples/conformance.rs) it also exercises resources, templates, prompts, completion, logging,
progress, sampling and elicitation, the last two through input-required results in 2026-07-28.
"""

import sys
import time
import warnings

import anyio
from mcp import Client
from mcp.client.session import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CreateMessageResult, ElicitResult, PromptReference, TextContent

BASE = sys.argv[1].rstrip("/")
FIX = sys.argv[2].rstrip("/") if len(sys.argv) > 2 else None
# The 2.x SDK flags ping as removed in the 2026 revision; it is sent only in handshake sessions.
warnings.filterwarnings("ignore", message="ping is removed")
warnings.filterwarnings("ignore", message="The logging capability is deprecated")
results = []


def check(name, cond, detail=""):
    results.append(bool(cond))
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f": {detail}"), flush=True)


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


async def exercise(label, session_like, call_tool, list_tools, ping=None):
    tools = await list_tools()
    names = [t.name for t in tools.tools]
    check(f"{label}: tools/list names echo, add, sleep", {"echo", "add", "sleep"} <= set(names), names)
    check(f"{label}: every tool has a description and object schema",
          all(t.description and t.input_schema.get("type") == "object" for t in tools.tools))
    r = await call_tool("echo", {"message": "Hello World!"})
    check(f"{label}: echo", text_of(r) == "Hello World!" and not r.is_error, r)
    r = await call_tool("add", {"a": 42, "b": 27})
    check(f"{label}: add", text_of(r) == "69" and not r.is_error, r)
    start = time.monotonic()
    r = await call_tool("sleep", {"seconds": 1})
    took = time.monotonic() - start
    check(f"{label}: sleep 1 s answered in [1, 3) s", 1.0 <= took < 3.0 and not r.is_error, (took, r))
    r = await call_tool("add", {"a": "x", "b": 1})
    check(f"{label}: bad arguments -> isError", r.is_error, r)
    try:
        r = await call_tool("no_such_tool", {})
        check(f"{label}: unknown tool -> error", r.is_error, r)
    except Exception as e:  # noqa: BLE001 - the SDK raises MCPError for JSON-RPC errors
        check(f"{label}: unknown tool -> error", "no_such_tool" in str(e) or "Unknown tool" in str(e), e)
    if ping is not None:
        await ping()
        check(f"{label}: ping", True)


async def streamable():
    async with Client(f"{BASE}/mcp", mode="legacy") as client:
        check("python streamable: negotiated 2025-11-25", client.protocol_version == "2025-11-25",
              client.protocol_version)
        check("python streamable: server name", client.server_info and client.server_info.name == "fastmcp-server",
              client.server_info)
        await exercise("python streamable", client, client.call_tool, client.list_tools, client.send_ping)


async def stateless():
    """The SDK's default: server/discover, then stateless 2026-07-28 requests (no ping there)."""
    async with Client(f"{BASE}/mcp") as client:
        check("python 2026: negotiated 2026-07-28 via server/discover", client.protocol_version == "2026-07-28",
              client.protocol_version)
        check("python 2026: server name", client.server_info and client.server_info.name == "fastmcp-server",
              client.server_info)
        await exercise("python 2026", client, client.call_tool, client.list_tools)


async def legacy_sse():
    async with sse_client(f"{BASE}/sse") as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            check("python sse: initialize", init.server_info.name == "fastmcp-server", init)
            await exercise("python sse", session, session.call_tool, session.list_tools, session.send_ping)


async def features(label, api, logs, modern=False):
    """Resources, templates, prompts, completion and logging against the fixture server."""
    listed = await api.list_resources()
    uris = [str(r.uri) for r in listed.resources]
    check(f"{label}: resources/list", "test://static-text" in uris and all(r.name for r in listed.resources), uris)
    r = await api.read_resource("test://static-text")
    check(f"{label}: resources/read text",
          r.contents[0].text == "This is the content of the static text resource.", r)
    r = await api.read_resource("test://static-binary")
    check(f"{label}: resources/read blob", r.contents[0].mime_type == "image/png" and r.contents[0].blob, r)
    templates = await api.list_resource_templates()
    check(f"{label}: resources/templates/list",
          [t.uri_template for t in templates.resource_templates] == ["test://template/{id}/data"], templates)
    r = await api.read_resource("test://template/77/data")
    check(f"{label}: template read", '"id":"77"' in r.contents[0].text, r)
    prompts = await api.list_prompts()
    names = [p.name for p in prompts.prompts]
    check(f"{label}: prompts/list", "test_prompt_with_arguments" in names and all(p.description for p in prompts.prompts), names)
    r = await api.get_prompt("test_prompt_with_arguments", {"arg1": "a", "arg2": "b"})
    check(f"{label}: prompts/get", r.messages[0].content.text == "Prompt with arguments: arg1='a', arg2='b'", r)
    r = await api.complete(PromptReference(type="ref/prompt", name="test_prompt_with_arguments"),
                           {"name": "arg1", "value": "pa"})
    check(f"{label}: completion/complete", r.completion.values == ["paris", "park"], r)
    if not modern:  # in 2026-07-28 the client opts in per request (Client(log_level=...))
        await api.set_logging_level("debug")
    r = await api.call_tool("test_tool_with_logging", {})
    texts = [m.data for m in logs]
    check(f"{label}: log messages arrive before the result",
          not r.is_error and texts[:3] == ["Tool execution started", "Tool processing data", "Tool execution completed"],
          texts)
    progress = []

    async def on_progress(done, total, message):
        progress.append(done)

    r = await api.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
    check(f"{label}: progress callback gets 0, 50, 100", not r.is_error and progress == [0, 50, 100], (progress, r))
    r = await api.call_tool("test_sampling", {"prompt": "What is 2+2?"})
    check(f"{label}: sampling callback answers the tool", text_of(r) == "LLM response: four (asked: What is 2+2?)", r)
    r = await api.call_tool("test_elicitation", {"message": "Who are you?"})
    check(f"{label}: elicitation callback answers the tool",
          text_of(r) == 'User response: action=accept, content={"email":"ada@example.com","username":"ada"}', r)


async def on_sampling(context, params):
    asked = params.messages[0].content.text
    return CreateMessageResult(role="assistant", content=TextContent(type="text", text=f"four (asked: {asked})"),
                               model="interop-model", stop_reason="endTurn")


async def on_elicitation(context, params):
    return ElicitResult(action="accept", content={"username": "ada", "email": "ada@example.com"})


async def fixtures_streamable():
    logs = []

    async def on_log(params):
        logs.append(params)

    async with Client(f"{FIX}/mcp", mode="legacy", logging_callback=on_log, sampling_callback=on_sampling,
                      elicitation_callback=on_elicitation) as client:
        await features("python streamable features", client, logs)


async def fixtures_stateless():
    """The same tools in 2026-07-28: ctx.sample / ctx.elicit become input-required results that
    the SDK answers through the same callbacks and retries."""
    logs = []

    async def on_log(params):
        logs.append(params)

    async with Client(f"{FIX}/mcp", log_level="debug", logging_callback=on_log, sampling_callback=on_sampling,
                      elicitation_callback=on_elicitation) as client:
        check("python 2026 features: negotiated 2026-07-28", client.protocol_version == "2026-07-28",
              client.protocol_version)
        await features("python 2026 features", client, logs, modern=True)
        r = await client.call_tool("test_input_required_result_multi_round", {})
        check("python 2026 features: two input rounds, then the result", "likes" in text_of(r) and not r.is_error, r)
        before = {t.name for t in (await client.list_tools()).tools}
        async with client.listen(tools_list_changed=True) as sub:
            await client.call_tool("test_trigger_tool_change", {})
            event = None
            with anyio.fail_after(5):
                async for event in sub:
                    break
            check("python 2026 features: subscriptions/listen hears the tool list change",
                  type(event).__name__ == "ToolsListChanged", event)
        after = {t.name for t in (await client.list_tools()).tools}
        check("python 2026 features: the refetched (uncached) list shows the change",
              before ^ after == {"test_dynamic_tool"}, (before ^ after))


async def fixtures_sse():
    logs = []

    async def on_log(params):
        logs.append(params)

    async with sse_client(f"{FIX}/sse") as (read, write):
        async with ClientSession(read, write, logging_callback=on_log, sampling_callback=on_sampling,
                                 elicitation_callback=on_elicitation) as session:
            await session.initialize()
            await features("python sse features", session, logs)


async def main():
    fns = [stateless, streamable, legacy_sse] + ([fixtures_stateless, fixtures_streamable, fixtures_sse] if FIX else [])
    for fn in fns:
        try:
            with anyio.fail_after(60):
                await fn()
        except Exception as e:  # noqa: BLE001
            check(f"{fn.__name__} completed", False, repr(e))


anyio.run(main)
print(f"python interop: {sum(results)} passed, {len(results) - sum(results)} failed")
sys.exit(0 if results and all(results) else 1)
