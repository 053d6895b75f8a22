// Interop test: the reference stdio server @modelcontextprotocol/server-everything (npm, pinned in
// package.json), which this project did not write, served by `fastmcp-server gateway`, driven by
// the official TypeScript SDK client over Streamable HTTP in session mode (the SDK initializes
// with a 2025 revision, so the gateway starts one child per session).
// Usage: node gateway_everything.mjs GATEWAY_URL   (the gateway's /mcp endpoint)
// Prints one "ok ..." / "FAIL ..." line per check and "gateway interop: N passed, M failed";
// exits non-zero if any failed.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CreateMessageRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const url = new URL(process.argv[2]);
const results = [];
function check(name, cond, detail = "") {
  results.push(!!cond);
  console.log((cond ? "ok   " : "FAIL ") + name + (cond ? "" : `: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`));
}
const textOf = (r) => (r.content ?? []).map((c) => c.text ?? "").join("");

/** A client that can answer sampling: server-everything then registers its sampling tool. */
function newClient(tag) {
  const client = new Client({ name: `gateway-interop-${tag}`, version: "1.0.0" }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async (req) => ({
    role: "assistant",
    content: { type: "text", text: `sampled for ${tag}: ${req.params.messages[0]?.content?.text ?? ""}` },
    model: `model-${tag}`,
    stopReason: "endTurn",
  }));
  return client;
}

async function exercise(client, transport) {
  check("session mode: the gateway gave a session id", typeof transport.sessionId === "string" && transport.sessionId.length > 0, transport.sessionId);
  check("session mode: a 2025 revision negotiated", /^2025-/.test(transport.protocolVersion ?? ""), transport.protocolVersion);
  const server = client.getServerVersion();
  check("initialize answered by the child (server-everything)", server?.name === "mcp-servers/everything", server);

  const names = (await client.listTools()).tools.map((t) => t.name);
  const want = ["echo", "get-sum", "trigger-long-running-operation", "trigger-sampling-request"];
  check(`tools/list: ${names.length} tools, ${want.join(", ")} among them`, want.every((n) => names.includes(n)), names);

  let r = await client.callTool({ name: "echo", arguments: { message: "through the gateway" } });
  check("tools/call echo", textOf(r) === "Echo: through the gateway" && !r.isError, r);
  r = await client.callTool({ name: "get-sum", arguments: { a: 42, b: 27 } });
  check("tools/call get-sum 42 + 27", textOf(r) === "The sum of 42 and 27 is 69." && !r.isError, r);
  r = await client.callTool({ name: "get-sum", arguments: { a: "x", b: 1 } }).catch((e) => ({ isError: true, e: String(e) }));
  check("tools/call get-sum with a string -> error", r.isError === true, r);

  const resources = (await client.listResources()).resources;
  check(`resources/list: ${resources.length} resources`, resources.length > 0, resources);
  r = await client.readResource({ uri: "demo://resource/dynamic/text/7" });
  check("resources/read a template's resource", /^Resource 7: This is a plaintext resource/.test(r.contents?.[0]?.text ?? ""), r);
  if (resources.length > 0) {
    r = await client.readResource({ uri: resources[0].uri });
    check(`resources/read ${resources[0].uri}`, r.contents?.[0]?.uri === resources[0].uri, r);
  }

  const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
  check("prompts/list has simple-prompt and args-prompt", ["simple-prompt", "args-prompt"].every((n) => prompts.includes(n)), prompts);
  r = await client.getPrompt({ name: "args-prompt", arguments: { city: "Lyon", state: "Rhône" } });
  check("prompts/get args-prompt", r.messages?.[0]?.content?.text === "What's weather in Lyon, Rhône?", r);

  // Progress: the child's notifications/progress carry our token, so they reach this request.
  const progress = [];
  const start = Date.now();
  r = await client.callTool(
    { name: "trigger-long-running-operation", arguments: { duration: 1, steps: 4 } },
    undefined,
    { onprogress: (p) => progress.push(`${p.progress}/${p.total}`) },
  );
  const took = (Date.now() - start) / 1000;
  check("long-running operation: progress 1/4 .. 4/4, then the result", progress.join(",") === "1/4,2/4,3/4,4/4" && /completed/.test(textOf(r)), { progress, r });
  check("long-running operation took its time (>= 0.9 s)", took >= 0.9, { took });

  // A request of the child (sampling/createMessage) answered by this client, sent back to it.
  r = await client.callTool({ name: "trigger-sampling-request", arguments: { prompt: "hello", maxTokens: 10 } });
  check("sampling: the child's request reached this client and its answer went back", /model-a/.test(textOf(r)) && /sampled for a/.test(textOf(r)), r);

  const pong = await client.ping();
  check("ping", pong && Object.keys(pong).length === 0, pong);
}

/** Two sessions at once: each has its own child, and its sampling request comes back to it. */
async function isolation() {
  const clients = ["b", "c"].map((tag) => ({ tag, client: newClient(tag), transport: new StreamableHTTPClientTransport(url) }));
  try {
    await Promise.all(clients.map(({ client, transport }) => client.connect(transport)));
    check("two sessions at once: distinct session ids", clients[0].transport.sessionId !== clients[1].transport.sessionId, clients.map((c) => c.transport.sessionId));
    const answers = await Promise.all(
      clients.map(({ client }) => client.callTool({ name: "trigger-sampling-request", arguments: { prompt: "who", maxTokens: 5 } })),
    );
    const good = answers.every((a, i) => textOf(a).includes(`sampled for ${clients[i].tag}`) && !textOf(a).includes(`sampled for ${clients[1 - i].tag}`));
    check("two sessions at once: each session's sampling request went to its own client", good, answers.map(textOf));
    for (const { transport } of clients) await transport.terminateSession();
    check("two sessions: DELETE ends both", clients.every((c) => c.transport.sessionId === undefined), clients.map((c) => c.transport.sessionId));
  } catch (e) {
    check("two sessions at once: completed", false, String(e?.stack ?? e));
  } finally {
    await Promise.all(clients.map(({ client }) => client.close().catch(() => {})));
  }
}

const client = newClient("a");
const transport = new StreamableHTTPClientTransport(url);
try {
  await client.connect(transport);
  await exercise(client, transport);
  const sessionId = transport.sessionId;
  await transport.terminateSession();
  // The session (and its child) is gone: a request with its id is answered 404.
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      "Mcp-Session-Id": sessionId,
      "MCP-Protocol-Version": "2025-11-25",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 99, method: "ping" }),
  });
  check("after DELETE the session id answers 404", res.status === 404, res.status);
} catch (e) {
  check("completed", false, String(e?.stack ?? e));
} finally {
  await client.close().catch(() => {});
}
await isolation();

const passed = results.filter(Boolean).length;
const failed = results.length - passed;
console.log(`gateway interop: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
