//! Prints `tradeguard_exchange::bench::signing_rates()` as JSON (what `tradeguard bench
//! exchange` will print). Run with `cargo run --release -p tradeguard-exchange --example signing_rates`.

fn main() {
    let v = tradeguard_exchange::bench::signing_rates();
    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
}
