//! Client subcommands that talk to a running gateway, each request signed with a principal key
//! (tradeguard-client): `principal add|list|remove`, `halt`, `resume`, `approve`,
//! `order place|cancel|list`, `balances`, `rebalance PROFILE [--dry-run]`, `session` (a
//! read-only bearer token for the dashboard). Answers are printed as JSON.
//!
//! Connection: `--url` / `TRADEGUARD_ADDR` (`https://127.0.0.1:8443`; a bare `host:port` means
//! https), `--key` / `TRADEGUARD_KEY` (default `<data dir>/controller.key`), `--cert` /
//! `TRADEGUARD_CERT`: the gateway certificate to pin (default `<data dir>/tls/cert.pem`
//! when it exists, else the platform's roots).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use rust_decimal::Decimal;
use serde_json::Value;
use tradeguard_client::{
    Client, ClientConfig, ClientError, HaltMode, NewPrincipal, OrderRequest, PrincipalKey, Side,
    Trust,
};

/// The gateway certificate `--cert` defaults to, inside the data dir: the self-signed one
/// `serve` makes (`serve/bootstrap.rs`, `TLS_DIR`/`TLS_CERT`).
pub const GATEWAY_CERT_FILE: &str = "tls/cert.pem";
const CONTROLLER_KEY: &str = "controller.key";

/// How to reach the gateway and sign.
#[derive(Args, Clone, Debug)]
pub struct Conn {
    /// Gateway URL (`https://host:port`; plain http only to 127.0.0.1, ::1 or localhost).
    #[arg(
        long,
        global = true,
        env = "TRADEGUARD_ADDR",
        default_value = "https://127.0.0.1:8443"
    )]
    pub url: String,
    /// Principal key (Ed25519 PKCS#8 PEM). Default: `<data dir>/controller.key`.
    #[arg(long, global = true, env = "TRADEGUARD_KEY", value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Gateway certificate to trust, and only it (PEM). Default: `<data dir>/tls/cert.pem`
    /// if present, else the platform's trust store.
    #[arg(long, global = true, env = "TRADEGUARD_CERT", value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Data dir holding the default key and certificate.
    #[arg(
        long,
        global = true,
        env = "TRADEGUARD_DATA",
        default_value = "./tradeguard-data"
    )]
    pub data_dir: PathBuf,
}

/// The client subcommands (flattened into the top-level command list).
#[derive(Subcommand, Debug)]
pub enum ClientCommand {
    /// Principals: `add` and `remove` propose a change for the quorum; `list`.
    Principal(PrincipalArgs),
    /// Emergency stop: HALTED (cancels every open order) or, with --reducing, REDUCING.
    Halt(HaltArgs),
    /// Propose resuming trading after a halt (needs the approvers' quorum).
    Resume(Conn),
    /// Approve a proposal by id; without an id, list the open proposals.
    Approve(ApproveArgs),
    /// Orders: `place`, `cancel ID`, `list`.
    Order(OrderArgs),
    /// Balances on every exchange.
    Balances(Conn),
    /// Rebalance a profile towards its targets now (its strategy, randomization and limits;
    /// every order through the risk gate). With --dry-run, only show the plan.
    Rebalance(RebalanceArgs),
    /// Open a read-only session and print its bearer token, for the dashboard at the
    /// gateway's `/` or for `GET /metrics`; it ends at its expiry or at a halt.
    Session(SessionArgs),
}

/// `session [--ttl SECS]`.
#[derive(Args, Debug)]
pub struct SessionArgs {
    /// Lifetime in seconds (at least 300; default and maximum: the gateway's, 1 h).
    #[arg(long, value_name = "SECS")]
    ttl: Option<u64>,
    #[command(flatten)]
    conn: Conn,
}

/// `rebalance PROFILE [--dry-run]`.
#[derive(Args, Debug)]
pub struct RebalanceArgs {
    /// The profile (`[profiles.<name>]`).
    profile: String,
    /// Answer the plan without placing any order.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    conn: Conn,
}

/// `principal ...`.
#[derive(Args, Debug)]
pub struct PrincipalArgs {
    #[command(subcommand)]
    cmd: PrincipalCmd,
    #[command(flatten)]
    conn: Conn,
}

#[derive(Subcommand, Debug)]
enum PrincipalCmd {
    /// Propose a principal: its did:key (or HMAC key id) and scopes.
    Add {
        /// `did:key:z6Mk...` (or an HMAC key id with --kind hmac-sha256).
        keyid: String,
        /// Comma-separated scopes: trade, read, halt, resume, manage-credentials,
        /// manage-principals, manage-risk.
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        /// A label for people.
        #[arg(long, default_value = "")]
        label: String,
        /// Key kind: ed25519 (default) or hmac-sha256.
        #[arg(long)]
        kind: Option<String>,
    },
    /// List principals.
    List,
    /// Propose revoking a principal.
    Remove {
        /// Its key id.
        keyid: String,
    },
}

/// `halt`.
#[derive(Args, Debug)]
pub struct HaltArgs {
    /// REDUCING (only exposure-reducing orders) instead of HALTED.
    #[arg(long)]
    reducing: bool,
    /// Why, for the audit log.
    #[arg(long)]
    reason: Option<String>,
    #[command(flatten)]
    conn: Conn,
}

/// `approve`.
#[derive(Args, Debug)]
pub struct ApproveArgs {
    /// The proposal to approve; omit to list open proposals.
    proposal_id: Option<String>,
    #[command(flatten)]
    conn: Conn,
}

/// `order ...`.
#[derive(Args, Debug)]
pub struct OrderArgs {
    #[command(subcommand)]
    cmd: OrderCmd,
    #[command(flatten)]
    conn: Conn,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SideArg {
    Buy,
    Sell,
}

#[derive(Subcommand, Debug)]
enum OrderCmd {
    /// Place an order (market, or limit with --price).
    Place {
        /// Risk profile.
        #[arg(long)]
        profile: String,
        /// `BASE/QUOTE`, e.g. BTC/USDT.
        #[arg(long)]
        symbol: String,
        /// buy or sell.
        #[arg(long, value_enum)]
        side: SideArg,
        /// Quantity of the base asset.
        #[arg(long)]
        quantity: Decimal,
        /// Limit price (a limit order); without it, a market order.
        #[arg(long)]
        price: Option<Decimal>,
        /// Idempotency key; resending with the same one never places a second order.
        /// Default: a fresh random id.
        #[arg(long)]
        client_order_id: Option<String>,
        /// Only preview: the answer carries a one-time token for `order confirm`.
        #[arg(long)]
        preview: bool,
    },
    /// Execute a previewed order with its confirmation token.
    Confirm {
        /// The token from `order place --preview`.
        token: String,
    },
    /// Cancel an order.
    Cancel {
        /// The order id.
        id: String,
    },
    /// List orders.
    List,
}

/// Runs a client subcommand; prints the answer as JSON.
pub fn run(cmd: ClientCommand) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match rt.block_on(dispatch(cmd)) {
        Ok(v) => {
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(exit_code(&e)))
        }
    }
}

/// 2 for what the user must fix (key, URL, certificate, a refused input), 1 otherwise.
pub(crate) fn exit_code(e: &ClientError) -> u8 {
    match e {
        ClientError::Key { .. } | ClientError::Config(_) => 2,
        ClientError::Problem {
            status: 400 | 404 | 413 | 415 | 422,
            ..
        } => 2,
        _ => 1,
    }
}

async fn dispatch(cmd: ClientCommand) -> Result<Value, ClientError> {
    match cmd {
        ClientCommand::Principal(a) => principal(a).await,
        ClientCommand::Halt(a) => {
            let mode = a.reducing.then_some(HaltMode::Reducing);
            client(&a.conn)?.halt(mode, a.reason.as_deref()).await
        }
        ClientCommand::Resume(conn) => client(&conn)?.resume().await,
        ClientCommand::Session(a) => {
            let s = client(&a.conn)?.open_session(a.ttl).await?;
            // Printing the token is what the operator asked for: it goes into the dashboard.
            Ok(serde_json::json!({"token": s.token.expose_secret(),
                "expires_ms": s.expires_ms, "scopes": s.scopes}))
        }
        ClientCommand::Approve(a) => match a.proposal_id {
            Some(id) => client(&a.conn)?.approve(&id).await,
            None => client(&a.conn)?.approvals().await,
        },
        ClientCommand::Order(a) => order(a).await,
        ClientCommand::Balances(conn) => client(&conn)?.balances().await,
        ClientCommand::Rebalance(a) => rebalance(a).await,
    }
}

/// `POST /v1/rebalance/{profile}`; the profile name is checked before connecting.
async fn rebalance(a: RebalanceArgs) -> Result<Value, ClientError> {
    if tradeguard_risk::ids::ProfileId::new(&a.profile).is_err() {
        return Err(ClientError::Config(
            "PROFILE must be a profile name: 1 to 64 letters, digits, `_` or `-`".into(),
        ));
    }
    let body = serde_json::json!({ "dry_run": a.dry_run });
    client(&a.conn)?
        .signed(
            tradeguard_client::Method::POST,
            &["rebalance", &a.profile],
            None,
            Some(&body),
        )
        .await
}

async fn principal(a: PrincipalArgs) -> Result<Value, ClientError> {
    let c = client(&a.conn)?;
    match a.cmd {
        PrincipalCmd::Add {
            keyid,
            scopes,
            label,
            kind,
        } => {
            let p = NewPrincipal {
                keyid,
                kind,
                scopes,
                label,
            };
            c.add_principal(&p).await
        }
        PrincipalCmd::List => c.principals().await,
        PrincipalCmd::Remove { keyid } => c.remove_principal(&keyid).await,
    }
}

async fn order(a: OrderArgs) -> Result<Value, ClientError> {
    let c = client(&a.conn)?;
    match a.cmd {
        OrderCmd::Place {
            profile,
            symbol,
            side,
            quantity,
            price,
            client_order_id,
            preview,
        } => {
            let id = match client_order_id {
                Some(id) => id,
                None => fresh_order_id()?,
            };
            let side = match side {
                SideArg::Buy => Side::Buy,
                SideArg::Sell => Side::Sell,
            };
            let mut req = match price {
                Some(p) => OrderRequest::limit(&id, &profile, &symbol, side, quantity, p),
                None => OrderRequest::market(&id, &profile, &symbol, side, quantity),
            };
            req.require_confirmation = preview;
            c.place_order(&req).await
        }
        OrderCmd::Confirm { token } => c.place_order(&OrderRequest::confirm(&token)).await,
        OrderCmd::Cancel { id } => c.cancel_order(&id).await,
        OrderCmd::List => c.orders().await,
    }
}

fn fresh_order_id() -> Result<String, ClientError> {
    let raw = tradeguard_crypto::random::array::<12>()
        .map_err(|e| ClientError::Config(format!("cannot make a client order id: {e}")))?;
    Ok(format!("tg-{}", hex_lower(&raw)))
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The client for `conn`: URL normalized, key and certificate defaulted from the data dir.
pub(crate) fn client(conn: &Conn) -> Result<Client, ClientError> {
    let key_path = conn
        .key
        .clone()
        .unwrap_or_else(|| conn.data_dir.join(CONTROLLER_KEY));
    let key = PrincipalKey::load_pem_file(&key_path)?;
    Client::new(
        &ClientConfig::new(normalize_url(&conn.url), trust(conn)?),
        key,
    )
}

fn trust(conn: &Conn) -> Result<Trust, ClientError> {
    match &conn.cert {
        Some(path) => Trust::pinned_file(path),
        None => {
            let default = conn.data_dir.join(GATEWAY_CERT_FILE);
            if default.is_file() {
                Trust::pinned_file(&default)
            } else {
                Ok(Trust::PlatformRoots)
            }
        }
    }
}

/// `host:port` means `https://host:port`.
fn normalize_url(url: &str) -> String {
    if url.contains("://") {
        url.to_owned()
    } else {
        format!("https://{url}")
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        cmd: ClientCommand,
    }

    fn parse(args: &[&str]) -> Result<ClientCommand, clap::Error> {
        Cli::try_parse_from(std::iter::once("tradeguard").chain(args.iter().copied()))
            .map(|c| c.cmd)
    }

    #[test]
    fn arguments() {
        let ok: [&[&str]; 12] = [
            &["principal", "add", "did:key:z6Mk", "--scopes", "read,trade"],
            &["principal", "list", "--url", "http://127.0.0.1:8443"],
            &["principal", "remove", "did:key:z6Mk"],
            &["halt", "--reducing", "--reason", "drawdown"],
            &["resume", "--key", "k.pem"],
            &["approve", "p-1"],
            &[
                "order",
                "place",
                "--profile",
                "p",
                "--symbol",
                "BTC/USDT",
                "--side",
                "buy",
                "--quantity",
                "0.1",
            ],
            &["order", "cancel", "o-1"],
            &["order", "list"],
            &["balances", "--cert", "c.pem"],
            &["rebalance", "core"],
            &["rebalance", "core", "--dry-run", "--url", "127.0.0.1:1"],
        ];
        for (i, a) in ok.iter().enumerate() {
            assert!(parse(a).is_ok(), "TC{i} failed: {:?}", parse(a).err());
        }
        let bad: [&[&str]; 4] = [
            &["principal", "add", "did:key:z6Mk"],
            &["rebalance"],
            &[
                "order",
                "place",
                "--profile",
                "p",
                "--symbol",
                "B/U",
                "--side",
                "buy",
                "--quantity",
                "x",
            ],
            &[
                "order",
                "place",
                "--profile",
                "p",
                "--symbol",
                "B/U",
                "--side",
                "hold",
                "--quantity",
                "1",
            ],
        ];
        for (i, a) in bad.iter().enumerate() {
            let e = parse(a).expect_err("must be refused");
            assert_eq!(e.exit_code(), 2, "TC{i} failed");
        }
    }

    #[test]
    fn urls_and_defaults() {
        assert_eq!(normalize_url("127.0.0.1:8443"), "https://127.0.0.1:8443");
        assert_eq!(normalize_url("http://127.0.0.1:1"), "http://127.0.0.1:1");
        let dir = tempfile::tempdir().unwrap();
        let conn = Conn {
            url: "h:1".into(),
            key: None,
            cert: None,
            data_dir: dir.path().to_owned(),
        };
        assert_eq!(trust(&conn).unwrap(), Trust::PlatformRoots);
        std::fs::create_dir(dir.path().join("tls")).unwrap();
        std::fs::write(dir.path().join(GATEWAY_CERT_FILE), "pem").unwrap();
        assert_eq!(trust(&conn).unwrap(), Trust::Pinned(b"pem".to_vec()));
        let e = client(&conn).unwrap_err();
        assert!(e.to_string().contains("controller.key"), "{e}");
        assert_eq!(exit_code(&e), 2);
    }

    #[test]
    fn order_ids_are_fresh() {
        let (a, b) = (fresh_order_id().unwrap(), fresh_order_id().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 27);
    }
}
