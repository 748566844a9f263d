//! Prints the `tradeguard bench audit` figures as JSON:
//! `cargo run --release -p tradeguard-audit --example bench_audit [ENTRIES]`.

use tradeguard_audit::bench::{BenchConfig, run};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = BenchConfig::default();
    if let Some(n) = std::env::args().nth(1) {
        config.entries = n.parse()?;
    }
    let report = run(&config).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
