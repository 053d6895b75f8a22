//! The ceiling for the benchmark: a bare tiny_http server that answers every request with a fixed
//! JSON body, with the same worker count and socket options as fastmcp-server, and no protocol
//! work at all. `scripts/bench.sh` reports fastmcp-server's throughput as a ratio of this.
//!
//! Usage: bare_tiny_http PORT [WORKERS]

use std::sync::Arc;

const BODY: &str =
    r#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"bench"}]}}"#;

fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let workers: usize = args.next().and_then(|w| w.parse().ok()).unwrap_or(4);
    let sock =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    sock.set_reuse_address(true).expect("reuse");
    sock.set_nodelay(true).expect("nodelay");
    sock.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], port)).into())
        .expect("bind");
    sock.listen(1024).expect("listen");
    let listener: std::net::TcpListener = sock.into();
    println!(
        "bare tiny_http listening on http://{}",
        listener.local_addr().expect("addr")
    );
    let server = Arc::new(tiny_http::Server::from_listener(listener, None).expect("server"));
    let threads: Vec<_> = (0..workers)
        .map(|_| {
            let server = server.clone();
            std::thread::spawn(move || {
                let header =
                    tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..])
                        .expect("header");
                while let Ok(mut req) = server.recv() {
                    let mut body = Vec::new();
                    let _ = std::io::Read::read_to_end(req.as_reader(), &mut body);
                    let resp = tiny_http::Response::from_string(BODY).with_header(header.clone());
                    let _ = req.respond(resp);
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}
