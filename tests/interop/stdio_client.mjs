// Interop test: the official TypeScript MCP SDK (npm @modelcontextprotocol/sdk) starting
// fastmcp-server as a stdio child through StdioClientTransport.
// Usage: node stdio_client.mjs SERVER_BIN [FIXTURES_BIN]
// With FIXTURES_BIN (examples/conformance) it also exercises resources, prompts, logging,
// progress, and sampling/elicitation requests whose answers travel back on the server's stdin.
// Prints one "ok ..." / "FAIL ..." line per check; exits non-zero if any failed.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";

const bin = process.argv[2];
const fixtures = process.argv[3];
const results = [];
function check(name, cond, detail = "") {
  results.push(!!cond);
  console.log((cond ? "ok   " : "FAIL ") + name + (cond ? "" : `: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`));
}
const textOf = (r) => r.content.map((c) => c.text ?? "").join("");
const transport = (command) => new StdioClientTransport({ command, args: ["--stdio"], stderr: "ignore" });

async function tools() {
  const label = "ts stdio";
  const client = new Client({ name: "ts-stdio-interop", version: "1.0.0" });
  await client.connect(transport(bin));
  check(`${label}: server name`, client.getServerVersion()?.name === "fastmcp-server", client.getServerVersion());
  const names = (await client.listTools()).tools.map((t) => t.name);
  check(`${label}: tools/list names echo, add, sleep`, ["echo", "add", "sleep"].every((n) => names.includes(n)), names);
  let r = await client.callTool({ name: "echo", arguments: { message: "Hello\nWorld!" } });
  check(`${label}: echo (a newline inside a string)`, textOf(r) === "Hello\nWorld!" && !r.isError, r);
  r = await client.callTool({ name: "add", arguments: { a: 42, b: 27 } });
  check(`${label}: add`, textOf(r) === "69" && !r.isError, r);
  const start = Date.now();
  const sleeping = client.callTool({ name: "sleep", arguments: { seconds: 1 } });
  r = await client.callTool({ name: "echo", arguments: { message: "meanwhile" } });
  check(`${label}: echo answered while sleep runs`, textOf(r) === "meanwhile" && Date.now() - start < 1000, r);
  r = await sleeping;
  const took = (Date.now() - start) / 1000;
  check(`${label}: sleep 1 s answered in [1, 3) s`, took >= 1 && took < 3 && !r.isError, { took, r });
  // Cancelled through an AbortSignal: the SDK sends notifications/cancelled on stdin.
  const abort = new AbortController();
  const cancelled = client.callTool({ name: "sleep", arguments: { seconds: 30 } }, undefined, { signal: abort.signal });
  setTimeout(() => abort.abort("test"), 100);
  let aborted = false;
  try { await cancelled; } catch { aborted = true; }
  check(`${label}: a cancelled sleep is abandoned`, aborted);
  await client.ping();
  check(`${label}: ping after the cancellation`, true);
  await client.close();
}

async function features() {
  const label = "ts stdio features";
  const client = new Client({ name: "ts-stdio-interop", version: "1.0.0" }, { capabilities: { sampling: {}, elicitation: {} } });
  const logs = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logs.push(n.params));
  client.setRequestHandler(CreateMessageRequestSchema, async (req) => ({
    role: "assistant",
    content: { type: "text", text: `four (asked: ${req.params.messages[0].content.text})` },
    model: "interop-model",
    stopReason: "endTurn",
  }));
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: "accept", content: { username: "ada", email: "ada@example.com" } }));
  await client.connect(transport(fixtures));
  const uris = (await client.listResources()).resources.map((x) => x.uri);
  check(`${label}: resources/list`, uris.includes("test://static-text"), uris);
  const p = await client.getPrompt({ name: "test_prompt_with_arguments", arguments: { arg1: "a", arg2: "b" } });
  check(`${label}: prompts/get`, p.messages[0].content.text === "Prompt with arguments: arg1='a', arg2='b'", p);
  await client.setLoggingLevel("debug");
  let r = await client.callTool({ name: "test_tool_with_logging", arguments: {} });
  check(`${label}: log messages before the result`, logs.length >= 3 && logs[0].data === "Tool execution started", logs);
  const progress = [];
  r = await client.callTool({ name: "test_tool_with_progress", arguments: {} }, undefined, { onprogress: (x) => progress.push(x.progress) });
  check(`${label}: progress 0, 50, 100`, JSON.stringify(progress) === "[0,50,100]", progress);
  r = await client.callTool({ name: "test_sampling", arguments: { prompt: "What is 2+2?" } });
  check(`${label}: sampling answered on stdin`, textOf(r) === "LLM response: four (asked: What is 2+2?)", r);
  r = await client.callTool({ name: "test_elicitation", arguments: { message: "Who are you?" } });
  check(`${label}: elicitation answered on stdin`,
    textOf(r) === 'User response: action=accept, content={"email":"ada@example.com","username":"ada"}', r);
  await client.close();
}

for (const fn of [tools, ...(fixtures ? [features] : [])]) {
  try {
    await fn();
  } catch (e) {
    check(`${fn.name} completed`, false, String(e));
  }
}
const passed = results.filter(Boolean).length;
console.log(`stdio interop: ${passed} passed, ${results.length - passed} failed`);
process.exit(passed === results.length && passed > 0 ? 0 : 1);
