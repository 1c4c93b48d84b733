//! The `runrs` command: parses the runc-compatible command line and hands
//! over to the OCI front end (or to one of the internal roles).

use clap::Parser;

fn main() {
    let cli = runrs::runsc::cli::Cli::parse();
    let code = runrs::runsc::main(cli);
    std::process::exit(code);
}
