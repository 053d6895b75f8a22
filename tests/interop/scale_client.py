"""Scale test client (scripts/scale-test.sh): the official Python MCP SDK through nginx in front of
three instances of the conformance fixture server (examples/conformance.rs).

Usage: scale_client.py PROXY_URL a=URL:PID b=URL:PID c=URL:PID
Prints one "ok ..." / "FAIL ..." line per check and "scale python: N passed, M failed".
Which instance served what is checked afterwards from nginx's access log by the script.
"""

import os
import signal
import sys
import time
import warnings

import anyio
import json
import urllib.error
import urllib.request
from mcp import Client
from mcp.client.session import ClientSession
from mcp.client.sse import sse_client
from mcp.types import CreateMessageResult, ElicitResult, TextContent

PROXY = sys.argv[1].rstrip("/")
INSTANCES = {}
for arg in sys.argv[2:]:
    name, rest = arg.split("=", 1)
    url, pid = rest.rsplit(":", 1)
    INSTANCES[name] = (url, int(pid))
warnings.filterwarnings("ignore")
results = []
REV = "2026-07-28"


def check(name, cond, detail=""):
    results.append(bool(cond))
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f": {detail}"), flush=True)


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


async def on_sampling(context, params):
    asked = params.messages[0].content.text
    return CreateMessageResult(role="assistant", content=TextContent(type="text", text=f"four (asked: {asked})"),
                               model="scale-model", stop_reason="endTurn")


async def on_elicitation(context, params):
    return ElicitResult(action="accept", content={"username": "ada", "email": "ada@example.com"})


def stateless_client():
    return Client(f"{PROXY}/mcp", sampling_callback=on_sampling, elicitation_callback=on_elicitation)


async def stateless_round_trips():
    """The SDK's default mode: every request stands alone and goes round-robin, so each retry of an
    input-required round lands on another instance than the round before."""
    async with stateless_client() as client:
        check("python stateless: negotiated 2026-07-28 through the proxy", client.protocol_version == REV,
              client.protocol_version)
        ok = 0
        for i in range(12):
            r = await client.call_tool("test_simple_text", {})
            ok += text_of(r) == "This is a simple text response for testing."
        check("python stateless: 12 tool calls", ok == 12, ok)
        good = 0
        for i in range(6):
            r = await client.call_tool("test_sampling", {"prompt": f"q{i}"})
            good += text_of(r) == f"LLM response: four (asked: q{i})"
            r = await client.call_tool("test_elicitation", {"message": "Who?"})
            good += text_of(r).startswith("User response: action=accept")
        check("python stateless: 6 sampling and 6 elicitation round trips", good == 12, good)
        r = await client.call_tool("test_input_required_result_multi_round", {})
        check("python stateless: two input rounds, then the result", "likes" in text_of(r) and not r.is_error, r)


def post(url, body, headers):
    """A raw POST (the standard library: these checks need no SDK): status, headers, JSON or None."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, None


def raw_call(url, rid, params, name):
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": REV,
               "Mcp-Method": "tools/call", "Mcp-Name": name}
    body = {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}
    return post(f"{url}/mcp", body, headers)[2] or {}


def cross_instance_state():
    """Round 1 on instance a, the retry directly on b: b accepts a's requestState."""
    (a, _), (b, _) = INSTANCES["a"], INSTANCES["b"]
    meta = {"io.modelcontextprotocol/protocolVersion": REV,
            "io.modelcontextprotocol/clientCapabilities": {"sampling": {}},
            "io.modelcontextprotocol/clientInfo": {"name": "scale", "version": "1"}}
    params = {"name": "test_sampling", "arguments": {"prompt": "x"}, "_meta": meta}
    v = raw_call(a, 1, params, "test_sampling")
    result = v.get("result", {})
    keys = list(result.get("inputRequests", {}))
    check("instance a asks for input (input_required)", result.get("resultType") == "input_required" and keys, v)
    if not keys:
        return
    answer = {"role": "assistant", "content": {"type": "text", "text": "y"}, "model": "m"}
    retry = dict(params, requestState=result["requestState"], inputResponses={keys[0]: answer})
    v = raw_call(b, 2, retry, "test_sampling")
    check("instance b completes the call with a's requestState (one --state-key-file)",
          "LLM response: y" in str(v.get("result", {}).get("content")), v)


async def session_clients():
    async with Client(f"{PROXY}/mcp", mode="legacy", sampling_callback=on_sampling,
                      elicitation_callback=on_elicitation) as client:
        check("python session (streamable): initialize through the proxy", client.protocol_version == "2025-11-25",
              client.protocol_version)
        ok = 0
        for _ in range(8):
            ok += text_of(await client.call_tool("test_simple_text", {})) != ""
        r = await client.call_tool("test_sampling", {"prompt": "s"})
        check("python session (streamable): 8 calls and a sampling request on its instance",
              ok == 8 and text_of(r) == "LLM response: four (asked: s)", (ok, r))
    async with sse_client(f"{PROXY}/sse") as (read, write):
        async with ClientSession(read, write, sampling_callback=on_sampling) as session:
            await session.initialize()
            ok = 0
            for _ in range(8):
                ok += text_of(await session.call_tool("test_simple_text", {})) != ""
            r = await session.call_tool("test_sampling", {"prompt": "l"})
            check("python session (legacy SSE): 8 calls and a sampling request on its instance",
                  ok == 8 and text_of(r) == "LLM response: four (asked: l)", (ok, r))


def open_raw_session():
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                       "clientInfo": {"name": "scale-raw", "version": "1"}}}
    _, headers, _ = post(f"{PROXY}/mcp", init, {"Accept": "application/json, text/event-stream"})
    return headers.get("mcp-session-id", "")


def raw_ping(sid):
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    return post(f"{PROXY}/mcp", ping, {"Accept": "application/json, text/event-stream", "Mcp-Session-Id": sid,
                                       "MCP-Protocol-Version": "2025-11-25"})[0]


async def kill_mid_run():
    """Stateless traffic keeps flowing while one instance is killed; that instance's sessions get
    404 and a new session works at once."""
    sid = open_raw_session()
    victim = sid.split(".", 1)[0]
    check("a session opened through the proxy names its instance", victim in INSTANCES and raw_ping(sid) == 200, sid)
    if victim not in INSTANCES:
        return
    calls, failures = 0, []
    async with stateless_client() as client:
        deadline = time.monotonic() + 4
        killed_at = time.monotonic() + 1
        killed = False
        while time.monotonic() < deadline:
            if not killed and time.monotonic() >= killed_at:
                os.kill(INSTANCES[victim][1], signal.SIGKILL)
                killed = True
                print(f"     (killed instance {victim} after {calls} stateless calls)", flush=True)
            try:
                r = await client.call_tool("test_simple_text", {})
                if text_of(r) != "This is a simple text response for testing.":
                    failures.append(repr(r))
            except Exception as e:  # noqa: BLE001
                failures.append(repr(e))
            calls += 1
    check(f"stateless traffic continues across the kill ({calls} calls, {len(failures)} failed, at most 1)",
          calls > 20 and len(failures) <= 1, failures[:3])
    check("the killed instance's session gets 404", raw_ping(sid) == 404, raw_ping(sid))
    started = time.monotonic()
    fresh = open_raw_session()
    took = time.monotonic() - started
    check(f"a new session works at once ({took * 1000:.0f} ms, on {fresh.split('.', 1)[0]})",
          fresh and not fresh.startswith(victim + ".") and raw_ping(fresh) == 200 and took < 2, (fresh, took))
    async with Client(f"{PROXY}/mcp", mode="legacy") as client:
        r = await client.call_tool("test_simple_text", {})
        check("a new SDK session works after the kill", text_of(r) != "", r)


async def main():
    for fn in [stateless_round_trips, session_clients, kill_mid_run]:
        try:
            with anyio.fail_after(90):
                await fn()
        except Exception as e:  # noqa: BLE001
            check(f"{fn.__name__} completed", False, repr(e))
        if fn is stateless_round_trips:
            try:
                cross_instance_state()
            except Exception as e:  # noqa: BLE001
                check("cross_instance_state completed", False, repr(e))
        print(f"-- {fn.__name__} done", flush=True)


anyio.run(main)
print(f"scale python: {sum(results)} passed, {len(results) - sum(results)} failed")
sys.exit(0 if results and all(results) else 1)
