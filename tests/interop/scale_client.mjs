// Scale test client (scripts/scale-test.sh): the official TypeScript MCP SDK's session clients
// (Streamable HTTP and legacy HTTP+SSE) through nginx in front of three fixture-server instances.
// Usage: node scale_client.mjs PROXY_URL. Each session must keep working on the instance that
// created it (the script checks the instance from nginx's access log).
// Prints one "ok ..." / "FAIL ..." line per check and "scale ts: N passed, M failed".
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { CreateMessageRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const proxy = process.argv[2].replace(/\/$/, "");
const results = [];
function check(name, cond, detail = "") {
  results.push(!!cond);
  console.log((cond ? "ok   " : "FAIL ") + name + (cond ? "" : `: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`));
}
const textOf = (r) => r.content.map((c) => c.text ?? "").join("");

async function session(label, transport) {
  const client = new Client({ name: "ts-scale", version: "1.0.0" }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async (req) => ({
    role: "assistant",
    content: { type: "text", text: `four (asked: ${req.params.messages[0].content.text})` },
    model: "scale-model",
    stopReason: "endTurn",
  }));
  try {
    await client.connect(transport);
    let ok = 0;
    for (let i = 0; i < 8; i++) {
      const r = await client.callTool({ name: "test_simple_text", arguments: {} });
      if (textOf(r) === "This is a simple text response for testing.") ok++;
    }
    const r = await client.callTool({ name: "test_sampling", arguments: { prompt: "t" } });
    check(`${label}: 8 calls and a sampling request on its instance${transport.sessionId ? ` (session ${transport.sessionId.split(".")[0]}.…)` : ""}`,
      ok === 8 && textOf(r) === "LLM response: four (asked: t)", { ok, r });
  } catch (e) {
    check(`${label}: completed`, false, String(e?.stack ?? e));
  } finally {
    await client.close().catch(() => {});
  }
}

for (let i = 0; i < 3; i++) {
  await session(`ts session ${i + 1} (streamable)`, new StreamableHTTPClientTransport(new URL(`${proxy}/mcp`)));
}
await session("ts session (legacy SSE)", new SSEClientTransport(new URL(`${proxy}/sse`)));

const passed = results.filter(Boolean).length;
console.log(`scale ts: ${passed} passed, ${results.length - passed} failed`);
process.exit(results.length > 0 && passed === results.length ? 0 : 1);
