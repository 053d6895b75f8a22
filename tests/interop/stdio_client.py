"""Interop test: the official Python MCP SDK (PyPI `mcp`) starting fastmcp-server as a stdio child.

Usage: stdio_client.py SERVER_BIN [FIXTURES_BIN]
Starts `SERVER_BIN --stdio` through the SDK's stdio transport (`StdioServerParameters`): with the
classic `stdio_client` + `ClientSession` (initialize handshake), and with `Client` in its legacy
mode and in its default mode (server/discover, then stateless 2026-07-28 requests on the same
pipes). With FIXTURES_BIN (examples/conformance) it also exercises resources, prompts,
completion, logging, progress, and the server's requests to the client (sampling, elicitation,
roots) whose answers travel back on stdin. Prints one "ok ..." or "FAIL ..." line per check.
"""

import sys
import time
import warnings

import anyio
from mcp import Client
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.types import CreateMessageResult, ElicitResult, PromptReference, TextContent

BIN = sys.argv[1]
FIX = sys.argv[2] if len(sys.argv) > 2 else None
warnings.filterwarnings("ignore", message="ping is removed")
warnings.filterwarnings("ignore", message="The logging capability is deprecated")
results = []


def check(name, cond, detail=""):
    results.append(bool(cond))
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f": {detail}"), flush=True)


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


def params(binary):
    return StdioServerParameters(command=binary, args=["--stdio"])


async def exercise(label, api, ping=None):
    names = [t.name for t in (await api.list_tools()).tools]
    check(f"{label}: tools/list names echo, add, sleep", {"echo", "add", "sleep"} <= set(names), names)
    r = await api.call_tool("echo", {"message": "Hello\nWorld!"})
    check(f"{label}: echo (a newline inside a string)", text_of(r) == "Hello\nWorld!" and not r.is_error, r)
    r = await api.call_tool("add", {"a": 42, "b": 27})
    check(f"{label}: add", text_of(r) == "69" and not r.is_error, r)
    start = time.monotonic()
    async with anyio.create_task_group() as tg:
        slept = {}

        async def sleeper():
            slept["r"] = await api.call_tool("sleep", {"seconds": 1})
            slept["t"] = time.monotonic() - start

        tg.start_soon(sleeper)
        await anyio.sleep(0.1)
        r = await api.call_tool("echo", {"message": "meanwhile"})
        check(f"{label}: echo answered while sleep runs", text_of(r) == "meanwhile" and time.monotonic() - start < 1.0)
    check(f"{label}: sleep 1 s answered in [1, 3) s", 1.0 <= slept["t"] < 3.0 and not slept["r"].is_error, slept)
    r = await api.call_tool("add", {"a": "x", "b": 1})
    check(f"{label}: bad arguments -> isError", r.is_error, r)
    if ping is not None:
        await ping()
        check(f"{label}: ping", True)


async def classic():
    async with stdio_client(params(BIN)) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            check("python stdio: initialize", init.server_info.name == "fastmcp-server", init)
            check("python stdio: negotiated 2025-11-25", init.protocol_version == "2025-11-25", init.protocol_version)
            await exercise("python stdio", session, session.send_ping)


async def client_legacy():
    async with Client(params(BIN), mode="legacy") as client:
        check("python stdio Client legacy: negotiated 2025-11-25", client.protocol_version == "2025-11-25",
              client.protocol_version)
        await exercise("python stdio Client legacy", client, client.send_ping)


async def client_default():
    async with Client(params(BIN)) as client:
        check("python stdio Client default: a revision was agreed", client.protocol_version in
              ("2026-07-28", "2025-11-25"), client.protocol_version)
        print(f"     (agreed {client.protocol_version})", flush=True)
        await exercise("python stdio Client default", client)


async def on_sampling(context, p):
    asked = p.messages[0].content.text
    return CreateMessageResult(role="assistant", content=TextContent(type="text", text=f"four (asked: {asked})"),
                               model="interop-model", stop_reason="endTurn")


async def on_elicitation(context, p):
    return ElicitResult(action="accept", content={"username": "ada", "email": "ada@example.com"})


async def fixtures():
    logs = []

    async def on_log(p):
        logs.append(p)

    async with stdio_client(params(FIX)) as (read, write):
        async with ClientSession(read, write, logging_callback=on_log, sampling_callback=on_sampling,
                                 elicitation_callback=on_elicitation) as api:
            await api.initialize()
            label = "python stdio features"
            uris = [str(r.uri) for r in (await api.list_resources()).resources]
            check(f"{label}: resources/list", "test://static-text" in uris, uris)
            r = await api.read_resource("test://static-text")
            check(f"{label}: resources/read", r.contents[0].text == "This is the content of the static text resource.", r)
            r = await api.get_prompt("test_prompt_with_arguments", {"arg1": "a", "arg2": "b"})
            check(f"{label}: prompts/get", r.messages[0].content.text == "Prompt with arguments: arg1='a', arg2='b'", r)
            r = await api.complete(PromptReference(type="ref/prompt", name="test_prompt_with_arguments"),
                                   {"name": "arg1", "value": "pa"})
            check(f"{label}: completion/complete", r.completion.values == ["paris", "park"], r)
            await api.set_logging_level("debug")
            r = await api.call_tool("test_tool_with_logging", {})
            texts = [m.data for m in logs]
            check(f"{label}: log messages before the result", texts[:3] == [
                "Tool execution started", "Tool processing data", "Tool execution completed"], texts)
            progress = []

            async def on_progress(done, total, message):
                progress.append(done)

            r = await api.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
            check(f"{label}: progress 0, 50, 100", progress == [0, 50, 100], (progress, r))
            r = await api.call_tool("test_sampling", {"prompt": "What is 2+2?"})
            check(f"{label}: sampling answered on stdin", text_of(r) == "LLM response: four (asked: What is 2+2?)", r)
            r = await api.call_tool("test_elicitation", {"message": "Who are you?"})
            check(f"{label}: elicitation answered on stdin", text_of(r) ==
                  'User response: action=accept, content={"email":"ada@example.com","username":"ada"}', r)


async def main():
    for fn in [classic, client_legacy, client_default] + ([fixtures] if FIX else []):
        try:
            with anyio.fail_after(60):
                await fn()
        except Exception as e:  # noqa: BLE001
            check(f"{fn.__name__} completed", False, repr(e))


anyio.run(main)
print(f"stdio interop: {sum(results)} passed, {len(results) - sum(results)} failed")
sys.exit(0 if results and all(results) else 1)
