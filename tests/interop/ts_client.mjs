// Interop test: the official TypeScript MCP SDK (npm @modelcontextprotocol/sdk) against a running
// fastmcp-server. Usage: node ts_client.mjs BASE_URL [FIXTURES_URL]
// Streamable HTTP at each of the four handshake revisions, then the legacy HTTP+SSE transport.
// With FIXTURES_URL (the conformance fixture server, examples/conformance.rs) it also exercises
// resources, templates, prompts, completion and logging over both transports.
// Prints one "ok ..." / "FAIL ..." line per check; exits non-zero if any failed.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import {
  CallToolResultSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";

const base = process.argv[2].replace(/\/$/, "");
const fixtures = process.argv[3]?.replace(/\/$/, "");
const results = [];
function check(name, cond, detail = "") {
  results.push(!!cond);
  console.log((cond ? "ok   " : "FAIL ") + name + (cond ? "" : `: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`));
}
const textOf = (r) => r.content.map((c) => c.text ?? "").join("");

/** Makes the client ask for `version` in initialize, as an older client would. */
function pinVersion(transport, version) {
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    if (message.method === "initialize") {
      message = { ...message, params: { ...message.params, protocolVersion: version } };
    }
    return send(message, options);
  };
  return transport;
}

async function exercise(label, client) {
  const tools = await client.listTools();
  const names = tools.tools.map((t) => t.name);
  check(`${label}: tools/list`, ["echo", "add", "sleep"].every((n) => names.includes(n)), names);
  let r = await client.callTool({ name: "echo", arguments: { message: "Hello World!" } });
  check(`${label}: echo`, textOf(r) === "Hello World!" && !r.isError, r);
  r = await client.callTool({ name: "add", arguments: { a: 42, b: 27 } });
  check(`${label}: add`, textOf(r) === "69", r);
  const start = Date.now();
  r = await client.callTool({ name: "sleep", arguments: { seconds: 1 } });
  const took = (Date.now() - start) / 1000;
  check(`${label}: sleep 1 s answered in [1, 3) s`, took >= 1 && took < 3 && !r.isError, { took, r });
  r = await client.callTool({ name: "add", arguments: { a: "x", b: 1 } });
  check(`${label}: bad arguments -> isError`, r.isError === true, r);
  try {
    r = await client.callTool({ name: "no_such_tool", arguments: {} });
    check(`${label}: unknown tool -> error`, r.isError === true, r);
  } catch (e) {
    check(`${label}: unknown tool -> error`, /no_such_tool|Unknown tool/.test(String(e)), String(e));
  }
  const pong = await client.ping();
  check(`${label}: ping`, pong && Object.keys(pong).length === 0, pong);
}

async function run(label, makeTransport, expectVersion) {
  const client = new Client({ name: "ts-interop", version: "1.0.0" });
  const transport = makeTransport();
  try {
    await client.connect(transport);
    check(`${label}: server name`, client.getServerVersion()?.name === "fastmcp-server", client.getServerVersion());
    if (expectVersion && transport.protocolVersion !== undefined) {
      check(`${label}: negotiated ${expectVersion}`, transport.protocolVersion === expectVersion, transport.protocolVersion);
    }
    await exercise(label, client);
    if (transport.terminateSession) {
      await transport.terminateSession();
      check(`${label}: DELETE ends the session`, true);
    }
  } catch (e) {
    check(`${label}: completed`, false, String(e?.stack ?? e));
  } finally {
    await client.close().catch(() => {});
  }
}

for (const version of ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]) {
  await run(`ts streamable ${version}`, () => pinVersion(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)), version), version);
}
await run("ts sse", () => new SSEClientTransport(new URL(`${base}/sse`)), null);

async function features(label, makeTransport) {
  const client = new Client({ name: "ts-interop", version: "1.0.0" }, { capabilities: { sampling: {}, elicitation: {} } });
  const logs = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logs.push(n.params));
  client.setRequestHandler(CreateMessageRequestSchema, async (req) => ({
    role: "assistant",
    content: { type: "text", text: `four (asked: ${req.params.messages[0].content.text})` },
    model: "interop-model",
    stopReason: "endTurn",
  }));
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: "accept", content: { username: "ada", email: "ada@example.com" } }));
  try {
    await client.connect(makeTransport());
    const listed = await client.listResources();
    const uris = listed.resources.map((r) => r.uri);
    check(`${label}: resources/list`, uris.includes("test://static-text"), uris);
    let r = await client.readResource({ uri: "test://static-text" });
    check(`${label}: resources/read text`, r.contents[0].text === "This is the content of the static text resource.", r);
    r = await client.readResource({ uri: "test://static-binary" });
    check(`${label}: resources/read blob`, r.contents[0].mimeType === "image/png" && r.contents[0].blob.length > 0, r);
    const templates = await client.listResourceTemplates();
    check(`${label}: resources/templates/list`, templates.resourceTemplates[0]?.uriTemplate === "test://template/{id}/data", templates);
    r = await client.readResource({ uri: "test://template/77/data" });
    check(`${label}: template read`, r.contents[0].text.includes('"id":"77"'), r);
    const prompts = await client.listPrompts();
    check(`${label}: prompts/list`, prompts.prompts.some((p) => p.name === "test_prompt_with_arguments"), prompts);
    r = await client.getPrompt({ name: "test_prompt_with_arguments", arguments: { arg1: "a", arg2: "b" } });
    check(`${label}: prompts/get`, r.messages[0].content.text === "Prompt with arguments: arg1='a', arg2='b'", r);
    r = await client.complete({ ref: { type: "ref/prompt", name: "test_prompt_with_arguments" }, argument: { name: "arg1", value: "pa" } });
    check(`${label}: completion/complete`, JSON.stringify(r.completion.values) === '["paris","park"]', r);
    await client.setLoggingLevel("debug");
    r = await client.callTool({ name: "test_tool_with_logging", arguments: {} });
    const texts = logs.map((l) => l.data);
    check(`${label}: log messages arrive before the result`, !r.isError && texts.slice(0, 3).join("|") === "Tool execution started|Tool processing data|Tool execution completed", texts);
    const progress = [];
    r = await client.callTool({ name: "test_tool_with_progress", arguments: {} }, undefined, { onprogress: (p) => progress.push(p.progress) });
    check(`${label}: progress callback gets 0, 50, 100`, !r.isError && progress.join(",") === "0,50,100", { progress, r });
    r = await client.callTool({ name: "test_sampling", arguments: { prompt: "What is 2+2?" } });
    check(`${label}: sampling handler answers the tool`, textOf(r) === "LLM response: four (asked: What is 2+2?)", r);
    r = await client.callTool({ name: "test_elicitation", arguments: { message: "Who are you?" } });
    check(`${label}: elicitation handler answers the tool`, textOf(r) === 'User response: action=accept, content={"email":"ada@example.com","username":"ada"}', r);
  } catch (e) {
    check(`${label}: completed`, false, String(e?.stack ?? e));
  } finally {
    await client.close().catch(() => {});
  }
}

/** The client cuts its connection mid-call; a new client on the same session resumes the call's
 * stream with Last-Event-ID and gets the result. */
async function resume(label) {
  const url = new URL(`${base}/mcp`);
  const first = new Client({ name: "ts-interop", version: "1.0.0" });
  const cut = new StreamableHTTPClientTransport(url);
  try {
    await first.connect(cut);
    const sessionId = cut.sessionId;
    const call = { method: "tools/call", params: { name: "sleep", arguments: { seconds: 2 }, _meta: { progressToken: "resume-1" } } };
    let token;
    let seen;
    const sawId = new Promise((resolve) => (seen = resolve));
    const abandoned = first.request(call, CallToolResultSchema, { onresumptiontoken: (t) => { token = t; seen(); } }).catch((e) => e);
    await sawId;
    await cut.close();
    await abandoned;
    const second = new Client({ name: "ts-interop", version: "1.0.0" });
    const again = new StreamableHTTPClientTransport(url, { sessionId });
    await second.connect(again);
    const r = await second.request(call, CallToolResultSchema, { resumptionToken: token });
    check(`${label}: resumed after a cut connection (Last-Event-ID ${token})`, textOf(r) === "Slept for 2 seconds", r);
    await second.close();
  } catch (e) {
    check(`${label}: completed`, false, String(e?.stack ?? e));
  }
}

await resume("ts streamable resume");

if (fixtures) {
  await features("ts streamable features", () => new StreamableHTTPClientTransport(new URL(`${fixtures}/mcp`)));
  await features("ts sse features", () => new SSEClientTransport(new URL(`${fixtures}/sse`)));
}

const passed = results.filter(Boolean).length;
console.log(`ts interop: ${passed} passed, ${results.length - passed} failed`);
process.exit(results.length > 0 && passed === results.length ? 0 : 1);
