//! `encore users`: listeners and their tokens for the listen API.

use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;

use crate::ui;

/// Listeners and their tokens (what a player sends as its ListenBrainz
/// token, `Authorization: Token …`).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: UsersCommand,
}

#[derive(Debug, clap::Subcommand)]
enum UsersCommand {
    /// Create a listener (or take an existing one) and print a new token.
    Add(TokenArgs),
    /// Print a new token for an existing listener; the old one stops working.
    Token(TokenArgs),
    /// List listeners with their listen counts.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
struct TokenArgs {
    /// The listener's name (as their imports and players name them).
    name: String,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Issued {
    user: String,
    user_id: i64,
    token: String,
}

#[derive(Serialize)]
struct Listener {
    user: String,
    user_id: i64,
    listens: u64,
}

pub fn run(data_dir: &Path, a: Args) -> anyhow::Result<ExitCode> {
    let mut store = ui::open_store(data_dir)?;
    let (t, must_exist) = match a.command {
        UsersCommand::Add(t) => (t, false),
        UsersCommand::Token(t) => (t, true),
        UsersCommand::List { json } => {
            let mut all = Vec::new();
            for (user_id, user) in store.user_names()? {
                all.push(Listener { listens: store.listen_count(user_id)?, user, user_id });
            }
            if json {
                ui::print_json(&all)?;
            } else {
                for l in &all {
                    println!("{:>8}  {:<32} {} listens", l.user_id, l.user, l.listens);
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    let (user_id, token) =
        encore_engine::accounts::issue_token(&mut store, &t.name, must_exist).map_err(|e| anyhow::anyhow!(e))?;
    if t.json {
        ui::print_json(&Issued { user: t.name.trim().to_string(), user_id, token })?;
    } else {
        eprintln!("token of {:?} (user {user_id}); it is shown only now — keep it:", t.name.trim());
        println!("{token}");
    }
    Ok(ExitCode::SUCCESS)
}
