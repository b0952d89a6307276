//! The command-line edge: parses arguments ([`args`]), reads files, runs the library,
//! prints tables or JSON, and turns errors into one readable line with their causes.
//! Each subcommand has a module of its own; none of them computes a verdict.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod args;
#[cfg(not(target_arch = "wasm32"))]
mod bench;
#[cfg(not(target_arch = "wasm32"))]
mod comparisons;
#[cfg(not(target_arch = "wasm32"))]
mod eval;
#[cfg(not(target_arch = "wasm32"))]
mod features;
#[cfg(not(target_arch = "wasm32"))]
mod judge;
#[cfg(not(target_arch = "wasm32"))]
mod load;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    use clap::Parser;
    match run(args::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // the error and each cause after a colon
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn run(cli: args::Cli) -> anyhow::Result<()> {
    use args::Command;
    let constitution = load::constitution(cli.constitution.as_deref())?;
    match &cli.command {
        Command::Judge {
            conversation,
            responses,
            principles,
            reason,
            reason_tokens,
            json,
            explain,
        } => judge::run(
            &cli,
            &constitution,
            judge::Options {
                conversation,
                responses,
                principles,
                reason: reason.then_some(*reason_tokens),
                json: *json,
                explain: *explain,
            },
        ),
        Command::Eval {
            file,
            principles,
            limit,
            json,
        } => eval::run(&cli, &constitution, file, principles, *limit, *json),
        Command::Features {
            pairs,
            out,
            shard,
            states,
            conversation_only,
        } => features::run(
            &cli,
            &constitution,
            pairs.as_deref(),
            out,
            *shard,
            *states,
            *conversation_only,
        ),
        Command::Bench { fixture, runs } => bench::run(&cli, &constitution, fixture, *runs),
    }
}
