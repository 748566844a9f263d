//! `tradeguard init | keys | seal | credentials` end to end on a temp data dir: exit codes,
//! file modes, one-line errors, and no secret echoed back.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

const PASSPHRASE: &str = "correct horse battery staple";
const SECRET: &str = "cli-secret-5c1f0e";

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the binary with a clean environment for the vault variables.
fn tg(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tradeguard"));
    cmd.args(args)
        .env_remove("TRADEGUARD_PASSPHRASE")
        .env_remove("TRADEGUARD_DATA")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run tradeguard");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// One bad-input case: arguments, environment, stdin, and what stderr must say.
type Case<'a> = (
    Vec<&'a str>,
    &'a [(&'a str, &'a str)],
    Option<&'a str>,
    &'a str,
);

const WITH_PASS: &[(&str, &str)] = &[("TRADEGUARD_PASSPHRASE", PASSPHRASE)];

fn init(dir: &Path) -> Out {
    let out = tg(
        &["init", "--data-dir", dir.to_str().unwrap()],
        WITH_PASS,
        None,
    );
    assert_eq!(out.code, 0, "init failed: {}", out.stderr);
    out
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn credential(exchange: &str, key: &str) -> String {
    format!(
        r#"{{"exchange":"{exchange}","api_key":"{key}","api_secret":"{SECRET}","passphrase":null,"label":"bot 1"}}"#
    )
}

/// Asserts a failure: exit code, one line on stderr containing `needle`, no secret anywhere.
fn assert_fails(out: &Out, code: i32, needle: &str, tc: &str) {
    assert_eq!(out.code, code, "{tc}: {}", out.stderr);
    assert_eq!(
        out.stderr.lines().count(),
        1,
        "{tc}: not one line: {}",
        out.stderr
    );
    assert!(out.stderr.contains(needle), "{tc}: {}", out.stderr);
    for s in [&out.stdout, &out.stderr] {
        assert!(
            !s.contains(SECRET) && !s.contains(PASSPHRASE),
            "{tc} leaked: {s}"
        );
    }
}

/// Fails if any file of `dir` holds `SECRET` in clear, hex or base64url.
fn assert_secret_not_on_disk(dir: &Path) {
    let hex: String = SECRET.bytes().map(|b| format!("{b:02x}")).collect();
    let mut forms = vec![SECRET.to_owned(), hex];
    for pad in 0..3 {
        let shifted = format!("{}{SECRET}", "x".repeat(pad));
        let b64 = tradeguard_crypto::b64::encode(shifted.as_bytes());
        forms.push(b64[4..b64.len() - 4].to_owned());
    }
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        for form in &forms {
            let found = bytes.windows(form.len()).any(|w| w == form.as_bytes());
            assert!(!found, "{} holds the secret ({form})", path.display());
        }
    }
}

#[test]
fn init_makes_a_private_data_dir_and_refuses_to_overwrite_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let out = init(&dir);
    assert!(
        out.stdout.contains("controller did:key:z6Mk"),
        "{}",
        out.stdout
    );
    assert_eq!(mode(&dir), 0o700);
    for f in ["controller.key", "tradeguard.db", "tradeguard.toml"] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
    }
    let pem = std::fs::read_to_string(dir.join("controller.key")).unwrap();
    let key = tradeguard_crypto::sign::Ed25519SigningKey::from_pkcs8_pem(&pem).unwrap();
    let did = tradeguard_crypto::did::encode_ed25519_did(&key.verifying_key());
    assert!(out.stdout.contains(&did), "printed did is the key's");
    let config = std::fs::read_to_string(dir.join("tradeguard.toml")).unwrap();
    assert!(config.contains("key_rotation_interval = 86400"));
    let config_path = dir.join("tradeguard.toml");
    let check = tg(
        &["config", "check", config_path.to_str().unwrap()],
        &[],
        None,
    );
    assert_eq!(
        check.code, 0,
        "serve would refuse the config init wrote: {}",
        check.stderr
    );

    let again = tg(
        &["init", "--data-dir", dir.to_str().unwrap()],
        WITH_PASS,
        None,
    );
    assert_fails(&again, 2, "already exists", "second init");
    assert_eq!(
        std::fs::read_to_string(dir.join("controller.key")).unwrap(),
        pem
    );
}

#[test]
fn seal_import_list_remove_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let d = dir.to_str().unwrap();
    init(&dir);
    let keys = tg(&["keys", "--data-dir", d], &[], None);
    assert_eq!(keys.code, 0, "{}", keys.stderr);
    let doc: serde_json::Value = serde_json::from_str(&keys.stdout).unwrap();
    assert_eq!(doc["hpke"][0]["kem"], "X25519-HKDF-SHA256");
    assert_eq!(doc["signing"]["alg"], "ed25519");
    let keys_file = tmp.path().join("keys.json");
    std::fs::write(&keys_file, &keys.stdout).unwrap();

    let suites = [
        (
            keys_file.to_str().unwrap(),
            "x25519",
            "aes-256-gcm",
            "binance",
        ),
        (d, "xwing", "chacha20-poly1305", "kraken"),
    ];
    for (i, (recipient, kem, aead, exchange)) in suites.iter().enumerate() {
        let args = [
            "seal",
            "--recipient",
            recipient,
            "--kem",
            kem,
            "--aead",
            aead,
        ];
        let sealed = tg(&args, &[], Some(&credential(exchange, &format!("key-{i}"))));
        assert_eq!(sealed.code, 0, "TC{i}: {}", sealed.stderr);
        assert!(!sealed.stdout.contains(SECRET));
        let env_file = tmp.path().join(format!("env{i}.json"));
        std::fs::write(&env_file, &sealed.stdout).unwrap();
        let args = [
            "credentials",
            "--data-dir",
            d,
            "import",
            "--envelope",
            env_file.to_str().unwrap(),
            "--profile",
            "main",
        ];
        let imported = tg(&args, WITH_PASS, None);
        assert_eq!(imported.code, 0, "TC{i}: {}", imported.stderr);
        assert!(
            imported.stdout.starts_with("imported cred-"),
            "TC{i}: {}",
            imported.stdout
        );
    }

    let list = tg(
        &["credentials", "--data-dir", d, "list", "--json"],
        &[],
        None,
    );
    assert_eq!(list.code, 0, "{}", list.stderr);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["exchange"], "binance");
    assert_eq!(rows[1]["label"], "bot 1");
    assert_eq!(rows[0]["kek_version"], 1);
    let table = tg(&["credentials", "--data-dir", d, "list"], &[], None);
    assert!(
        table.stdout.starts_with("ID ") && table.stdout.contains("kraken"),
        "{}",
        table.stdout
    );

    let pass_file = tmp.path().join("pass");
    std::fs::write(&pass_file, format!("{PASSPHRASE}\n")).unwrap();
    let id = rows[0]["id"].as_str().unwrap();
    let pass = pass_file.to_str().unwrap();
    let rotate = [
        "credentials",
        "--data-dir",
        d,
        "rotate-kek",
        "--passphrase-file",
        pass,
    ];
    let rotated = tg(&rotate, &[], None);
    assert_eq!(rotated.code, 0, "{}", rotated.stderr);
    assert!(
        rotated.stdout.contains("1 -> 2, 2 data key(s)"),
        "{}",
        rotated.stdout
    );
    let after = tg(
        &["credentials", "--data-dir", d, "list", "--json"],
        &[],
        None,
    );
    let after: Vec<serde_json::Value> = serde_json::from_str(&after.stdout).unwrap();
    assert!(after.iter().all(|r| r["kek_version"] == 2), "{after:?}");
    let args = [
        "credentials",
        "--data-dir",
        d,
        "remove",
        id,
        "--passphrase-file",
        pass_file.to_str().unwrap(),
    ];
    let removed = tg(&args, &[], None);
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    let list = tg(
        &["credentials", "--data-dir", d, "list", "--json"],
        &[],
        None,
    );
    assert_eq!(
        serde_json::from_str::<Vec<serde_json::Value>>(&list.stdout)
            .unwrap()
            .len(),
        1
    );
    assert_fails(&tg(&args, &[], None), 2, "no credential", "remove twice");
    assert_secret_not_on_disk(&dir);

    // Every vault event of these offline commands is in the data dir's signed audit log.
    let did = doc["signing"]["did"].as_str().unwrap();
    let verify = tg(
        &["audit", "verify", "--data-dir", d, "--key", did],
        &[],
        None,
    );
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    let export = tmp.path().join("audit.jsonl");
    let out = tg(
        &[
            "audit",
            "export",
            "--data-dir",
            d,
            "--out",
            export.to_str().unwrap(),
        ],
        &[],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let log = std::fs::read_to_string(&export).unwrap();
    let kinds: Vec<String> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|e| e["kind"].as_str().map(str::to_owned))
        .collect();
    let want = [
        "vault.initialized",
        "vault.credential_imported",
        "vault.credential_imported",
        "vault.kek_rotated",
        "vault.credential_removed",
    ];
    assert_eq!(kinds, want);
    assert!(log.contains(id), "the removal names the credential");
    assert!(!log.contains(SECRET));
}

#[test]
fn fail_bad_input_exits_2_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let d = dir.to_str().unwrap();
    init(&dir);
    let other = tmp.path().join("other");
    init(&other);
    let sealed = tg(
        &["seal", "--recipient", d],
        &[],
        Some(&credential("binance", "k")),
    );
    let good = tmp.path().join("good.json");
    std::fs::write(&good, &sealed.stdout).unwrap();
    let truncated = tmp.path().join("truncated.json");
    std::fs::write(&truncated, &sealed.stdout[..sealed.stdout.len() / 2]).unwrap();
    let foreign = tg(
        &["seal", "--recipient", other.to_str().unwrap()],
        &[],
        Some(&credential("binance", "k")),
    );
    let foreign_file = tmp.path().join("foreign.json");
    std::fs::write(&foreign_file, &foreign.stdout).unwrap();
    let (g, t, f) = (
        good.to_str().unwrap(),
        truncated.to_str().unwrap(),
        foreign_file.to_str().unwrap(),
    );
    let wrong = [("TRADEGUARD_PASSPHRASE", "not the passphrase")];
    let bad_doc =
        format!(r#"{{"exchange":"binance","api_key":"k","api_secret":{SECRET:?},"extra":1}}"#);
    let cases: Vec<Case> = vec![
        (
            vec![
                "credentials",
                "--data-dir",
                d,
                "import",
                "--envelope",
                g,
                "--profile",
                "main",
            ],
            &wrong,
            None,
            "wrong passphrase",
        ),
        (
            vec![
                "credentials",
                "--data-dir",
                d,
                "import",
                "--envelope",
                g,
                "--profile",
                "main",
            ],
            &[],
            None,
            "stdin is not a terminal",
        ),
        (
            vec![
                "credentials",
                "--data-dir",
                d,
                "import",
                "--envelope",
                t,
                "--profile",
                "main",
            ],
            WITH_PASS,
            None,
            "malformed envelope",
        ),
        (
            vec![
                "credentials",
                "--data-dir",
                d,
                "import",
                "--envelope",
                f,
                "--profile",
                "main",
            ],
            WITH_PASS,
            None,
            "does not open",
        ),
        (
            vec![
                "credentials",
                "--data-dir",
                d,
                "import",
                "--envelope",
                g,
                "--profile",
                "bad name",
            ],
            WITH_PASS,
            None,
            "invalid profile",
        ),
        (
            vec!["seal", "--recipient", d],
            &[],
            Some(&bad_doc),
            "unknown field `extra`",
        ),
        (
            vec!["seal", "--recipient", d],
            &[],
            Some(""),
            "no credential on stdin",
        ),
        (
            vec!["keys", "--data-dir", "/nonexistent/tg"],
            &[],
            None,
            "tradeguard init",
        ),
        (
            vec!["credentials", "--data-dir", d, "remove", "binance-main"],
            WITH_PASS,
            None,
            "invalid credential id",
        ),
    ];
    for (i, (args, env, stdin, needle)) in cases.iter().enumerate() {
        assert_fails(&tg(args, env, *stdin), 2, needle, &format!("TC{}", i + 1));
    }
    let list = tg(
        &["credentials", "--data-dir", d, "list", "--json"],
        &[],
        None,
    );
    assert_eq!(list.stdout.trim(), "[]", "nothing was imported");
    let ok = tg(
        &[
            "credentials",
            "--data-dir",
            d,
            "import",
            "--envelope",
            g,
            "--profile",
            "main",
        ],
        WITH_PASS,
        None,
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert_fails(
        &tg(
            &[
                "credentials",
                "--data-dir",
                d,
                "import",
                "--envelope",
                g,
                "--profile",
                "alt",
            ],
            WITH_PASS,
            None,
        ),
        2,
        "already stored",
        "duplicate",
    );
}
