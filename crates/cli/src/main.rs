//! `dwell`: the one binary.
//!
//! Errors print as one line naming the file and the reason; exit status 0 on success
//! (whatever was found), 2 on bad usage or unreadable input, 1 on internal failure. A
//! closed pipe (`dwell decode x | head`) is success.

mod analyze;
mod cli;
mod decode;
mod demo;
mod detectors;
mod progress;
mod sim;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Analyze(a) => analyze::run(a),
        Command::Decode(d) => decode::run(d),
        Command::Detectors(d) => detectors::run(d),
        Command::Demo(d) => demo::run(d),
        Command::Simulate(s) => sim::simulate(s),
        Command::Eval(e) => sim::eval(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let code = e.downcast_ref::<dwell_engine::EngineError>().map_or(1, |e| e.exit_code());
            eprintln!("dwell: error: {e:#}");
            ExitCode::from(code as u8)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("DWELL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
