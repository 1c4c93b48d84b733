//! The `runrs` command: parses the runc-compatible command line and hands
//! over to the OCI front end (or to one of the internal roles).

/// The value of `--name VALUE` or `--name=VALUE` in the raw arguments.
fn raw_flag(args: &[String], name: &str) -> Option<String> {
    let eq = format!("{name}=");
    args.iter().enumerate().find_map(|(i, a)| {
        if a == name {
            args.get(i + 1).cloned()
        } else {
            a.strip_prefix(&eq).map(str::to_string)
        }
    })
}

fn main() {
    let cli = match runrs::runsc::cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            // A shim reads errors from --log, not stderr: a bad flag (an
            // unknown runtimeArgs entry, say) must reach it there too.
            let args: Vec<String> = std::env::args().collect();
            let format = match raw_flag(&args, "--log-format").as_deref() {
                Some("json") => runrs::log::Format::Json,
                _ => runrs::log::Format::Text,
            };
            let log = raw_flag(&args, "--log").map(std::path::PathBuf::from);
            runrs::log::init(log.as_deref(), format, false, false);
            // An unknown command: runc's message and exit status 3 (what
            // scripts test for), without clap's guesses, which may name
            // an internal command.
            if e.kind() == clap::error::ErrorKind::InvalidSubcommand {
                let name = match e.get(clap::error::ContextKind::InvalidSubcommand) {
                    Some(clap::error::ContextValue::String(s)) => s.clone(),
                    _ => String::new(),
                };
                let msg = format!("No help topic for '{name}'");
                runrs::log::error(&msg);
                eprintln!("{msg}");
                std::process::exit(3);
            }
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("invalid command line");
            runrs::log::error(first.trim_start_matches("error: "));
            let _ = e.print();
            std::process::exit(1);
        }
    };
    let code = runrs::runsc::main(cli);
    std::process::exit(code);
}
