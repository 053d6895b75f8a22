//! rmcp (the official Rust MCP SDK) serving the same `echo` tool as fastmcp-server over Streamable
//! HTTP with JSON answers, so `scripts/bench.sh` measures both in one run.
//! Usage: rmcp-ref PORT  (prints "listening on http://ADDR" like the other servers)

use rmcp::handler::server::wrapper::Parameters;
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use axum::serve::ListenerExt;
use rmcp::{schemars, tool, tool_router};

#[derive(Clone)]
struct Echo;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    message: String,
}

#[tool_router(server_handler)]
impl Echo {
    #[tool(description = "Echoes the message")]
    fn echo(&self, Parameters(EchoArgs { message }): Parameters<EchoArgs>) -> String {
        message
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let service: StreamableHttpService<Echo, LocalSessionManager> = StreamableHttpService::new(
        || Ok(Echo),
        Default::default(),
        StreamableHttpServerConfig::default().with_json_response(true),
    );
    let router = axum::Router::new().nest_service("/mcp", service);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("rmcp listening on http://{}", listener.local_addr()?);
    // Without TCP_NODELAY, Nagle and delayed ACKs hold every answer ~40 ms; a fair comparison
    // (and any real deployment) sets it, as fastmcp-server does.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router).await
}
