"""Interop test: a config file reloaded on SIGHUP, as the official Python MCP SDK sees it.

Usage: reload_client.py BASE_URL CONFIG_PATH SERVER_PID NEW_CONFIG_PATH
The server at BASE_URL serves CONFIG_PATH (a tool named `before`). The client lists the tools,
listens for list changes (subscriptions/listen, revision 2026-07-28), replaces the file with
NEW_CONFIG_PATH (a tool named `after`), sends SIGHUP, and expects the ToolsListChanged
notification, the new list, and a call of the new tool that runs its command.
Prints one "ok ..." / "FAIL ..." line per check and "reload interop: N passed, M failed".
"""

import os
import shutil
import signal
import sys

import anyio
from mcp import Client

BASE, CONFIG, PID, NEW = sys.argv[1].rstrip("/"), sys.argv[2], int(sys.argv[3]), sys.argv[4]
results = []


def check(name, cond, detail=""):
    results.append(bool(cond))
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f": {detail}"), flush=True)


async def main():
    async with Client(f"{BASE}/mcp") as client:
        before = {t.name for t in (await client.list_tools()).tools}
        check("reload: the file's tool is listed, the demo tools are off", before == {"before"}, before)
        async with client.listen(tools_list_changed=True) as sub:
            shutil.copyfile(NEW, CONFIG)
            os.kill(PID, signal.SIGHUP)
            event = None
            with anyio.fail_after(10):
                async for event in sub:
                    break
            check("reload: SIGHUP -> notifications/tools/list_changed", type(event).__name__ == "ToolsListChanged",
                  event)
        after = {t.name for t in (await client.list_tools()).tools}
        check("reload: the new list has the new tool only", after == {"after"}, after)
        r = await client.call_tool("after", {"word": "reloaded"})
        text = "".join(getattr(c, "text", "") for c in r.content)
        check("reload: the new tool runs its command", not r.is_error and text.strip() == "reloaded", r)


try:
    anyio.run(main)
except Exception as e:  # noqa: BLE001 - any failure is a failed check, reported as such
    check("reload: client ran", False, repr(e))
passed = sum(results)
print(f"reload interop: {passed} passed, {len(results) - passed} failed")
sys.exit(0 if results and all(results) else 1)
