//! `tradeguard bench gateway` without the CLI (for profiling the authentication path):
//! `cargo run --release -p tradeguard-gateway --example bench_gateway -- [REQUESTS] [CONCURRENCY]`.

#[tokio::main]
async fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let requests = args
        .next()
        .transpose()
        .map_err(|e| e.to_string())?
        .unwrap_or(20_000);
    let concurrency = args
        .next()
        .transpose()
        .map_err(|e| e.to_string())?
        .unwrap_or(16);
    let opts = tradeguard_gateway::bench::BenchOptions {
        requests,
        concurrency,
    };
    let report = tradeguard_gateway::bench::run_scratch(opts).await?;
    println!(
        "{}",
        serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
    );
    Ok(())
}
