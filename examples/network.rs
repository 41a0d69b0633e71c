//! The network demo as a script: N clients, each sending one request to a
//! loopback server that answers after 100 ms, first as tokio tasks, then as
//! OS threads; the table of requests per second and peak memory.
//!
//! ```text
//! cargo run --release --example network                   # 1,000 clients
//! cargo run --release --example network -- --clients 10000
//! ```
//!
//! Each part runs as many clients as the process's limits allow and says
//! which limit stopped it. For 10,000 clients the server and the clients
//! hold 20,000 descriptors: raise the hard open-file limit if it is lower
//! (`ulimit -Hn`; as root, `ulimit -n 40000` in the shell first).

use std::process::ExitCode;

use asyncio_rs::demos::network;

fn main() -> ExitCode {
    let mut clients: usize = 1_000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--clients" => match args.next().map(|value| value.parse()) {
                Some(Ok(value)) if value > 0 => clients = value,
                _ => return usage("--clients takes a whole number above 0"),
            },
            other => return usage(&format!("unknown argument {other:?}")),
        }
    }
    match network::compare(clients) {
        Ok(comparison) => {
            println!("{comparison}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("error: {problem}");
    eprintln!("usage: network [--clients N]");
    ExitCode::from(2)
}
