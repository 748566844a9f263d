//! CLI snapshots (trycmd): each `tests/cli/<case>.toml` runs the binary (in `<case>.in/` when
//! that exists) and compares its exit status, stdout and stderr with `<case>.stdout` and
//! `<case>.stderr`. After an intended change of output, regenerate with
//! `TRYCMD=overwrite cargo test -p tradeguard --test cli_snapshots` and review the diff.

#[test]
fn cli_snapshots() {
    trycmd::TestCases::new()
        .register_bin(
            "tradeguard",
            std::path::Path::new(env!("CARGO_BIN_EXE_tradeguard")),
        )
        .case("tests/cli/*.toml");
}
