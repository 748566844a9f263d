//! Report generation cost: metrics of a ten-year daily equity history, and signing and
//! verifying the resulting report. `cargo bench -p tradeguard-analytics`.

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tradeguard_analytics::{
    CheckpointRef, Conventions, Report, ReportBody, ReportFormat, Timestamp, analyze_equity,
    parse_equity_csv, sign_report, verify_report,
};
use tradeguard_crypto::sign::Ed25519SigningKey;

/// 3,651 daily points with a deterministic wobble and a flow every 30 days.
fn csv() -> String {
    let mut out = String::from("timestamp,value,flow\n");
    let mut v = 10_000.0f64;
    for i in 0..3651u32 {
        let t = Timestamp::from_unix_seconds(1_600_000_000 + 86_400 * i64::from(i)).unwrap();
        let r = ((i * 7919 % 1000) as f64 - 495.0) / 20_000.0;
        let flow = if i % 30 == 29 { 250.0 } else { 0.0 };
        v = v * (1.0 + r) + flow;
        let _ = writeln!(out, "{t},{v:.2},{flow:.2}");
    }
    out
}

fn bench(c: &mut Criterion) {
    let text = csv();
    let conv = Conventions::new(365, 0.04).unwrap();
    let series = parse_equity_csv(&text).unwrap();
    c.bench_function("parse_equity_csv 3651 rows", |b| {
        b.iter(|| parse_equity_csv(black_box(&text)).unwrap())
    });
    c.bench_function("analyze_equity 3651 points", |b| {
        b.iter(|| analyze_equity(black_box(&series), &conv).unwrap())
    });
    let report = Report {
        format: ReportFormat,
        generated_at: Timestamp::parse("2030-01-01").unwrap(),
        checkpoint: CheckpointRef::new("bench/log", 1_000_000, [1; 32]).unwrap(),
        body: ReportBody::Equity(Box::new(analyze_equity(&series, &conv).unwrap())),
    };
    let key = Ed25519SigningKey::from_seed(&[1; 32]).unwrap();
    let file = sign_report(&report, &key).unwrap();
    c.bench_function("sign_report (JCS + Ed25519)", |b| {
        b.iter(|| sign_report(black_box(&report), &key).unwrap())
    });
    let vk = key.verifying_key();
    c.bench_function("verify_report", |b| {
        b.iter(|| verify_report(black_box(&file), &vk).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
