//! `tradeguard keys`: the gateway's public keys as the `GET /v1/keys` JSON, read offline from
//! a data dir (no passphrase needed: public keys are stored in clear beside the sealed ones).

use std::process::ExitCode;

use clap::Args;

use super::datadir;

/// Arguments of `tradeguard keys`.
#[derive(Args)]
pub struct KeysArgs {
    #[command(flatten)]
    dir: datadir::DataDirArg,
}

/// Runs `tradeguard keys`.
pub fn run(args: KeysArgs) -> anyhow::Result<ExitCode> {
    datadir::finish(datadir::block_on(async {
        let store = datadir::open_store(&args.dir.data_dir).await?;
        let keys = datadir::vault(store).public_keys().await?;
        println!("{}", keys.to_json());
        Ok(())
    })?)
}
